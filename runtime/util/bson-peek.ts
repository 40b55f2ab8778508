/**
 * Reads one top-level scalar from a raw BSON document without decoding the
 * rest: capture uses it to record schema versions on the fast raw path.
 */
export function peekTopLevelScalar(doc: Uint8Array, field: string): string | number | undefined {
  const view = new DataView(doc.buffer, doc.byteOffset, doc.byteLength);
  const end = Math.min(view.getInt32(0, true), doc.byteLength) - 1;
  let pos = 4;
  while (pos < end) {
    const type = doc[pos++]!;
    const nameStart = pos;
    while (pos < end && doc[pos] !== 0) pos++;
    const name = Buffer.from(doc.buffer, doc.byteOffset + nameStart, pos - nameStart).toString('utf8');
    pos++;
    if (name === field) {
      switch (type) {
        case 0x02: {
          const length = view.getInt32(pos, true);
          return Buffer.from(doc.buffer, doc.byteOffset + pos + 4, Math.max(0, length - 1)).toString('utf8');
        }
        case 0x10:
          return view.getInt32(pos, true);
        case 0x01:
          return view.getFloat64(pos, true);
        case 0x12:
          return Number(view.getBigInt64(pos, true));
        default:
          return undefined;
      }
    }
    const size = valueSize(type, view, doc, pos);
    if (size < 0) return undefined;
    pos += size;
  }
  return undefined;
}

/** Bytes the value of a BSON element of `type` at `pos` occupies; -1 for an unknown type. */
export function valueSize(type: number, view: DataView, doc: Uint8Array, pos: number): number {
  switch (type) {
    case 0x01: case 0x09: case 0x11: case 0x12: return 8;
    case 0x02: case 0x0d: case 0x0e: return 4 + view.getInt32(pos, true);
    case 0x03: case 0x04: case 0x0f: return view.getInt32(pos, true);
    case 0x05: return 5 + view.getInt32(pos, true);
    case 0x06: case 0x0a: case 0x7f: case 0xff: return 0;
    case 0x07: return 12;
    case 0x08: return 1;
    case 0x0b: {
      let p = pos;
      while (doc[p] !== 0) p++;
      p++;
      while (doc[p] !== 0) p++;
      return p + 1 - pos;
    }
    case 0x0c: return 4 + view.getInt32(pos, true) + 12;
    case 0x10: return 4;
    case 0x13: return 16;
    default: return -1;
  }
}
