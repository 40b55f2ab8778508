/**
 * Decoding BSON so that re-encoding gives the same bytes. Plain
 * `deserialize` loses three things: number types (a double 1.0 becomes 1,
 * an Int64 a number), the order of integer-like keys (JavaScript objects
 * list `"2"` before `"b"` whatever the document said), and dates beyond
 * ±8.64e15 ms (they become Invalid Date and are written back as 1970).
 *
 * `decodeExact` keeps types with the options below, and for the rare
 * document that has integer-like keys or far dates it rebuilds the value
 * from the raw bytes: sub-documents become `Map`s (which the `bson`
 * serializer writes in insertion order) and far dates become `WideDate`s
 * carrying the exact milliseconds. A date beyond ±2^53 ms cannot travel
 * through the driver (it converts through a JavaScript number), so it is
 * refused with the field's path instead of being changed.
 */
import { deserialize, type Document } from 'bson';
import { valueSize } from './bson-peek.js';

/** The one set of decode options for documents that will be written back: every BSON type stays what it was. */
export const EXACT_DECODE = { promoteValues: false, promoteLongs: false, promoteBuffers: false, bsonRegExp: true } as const;

/** The largest |ms| a JavaScript Date holds. */
const DATE_RANGE_MS = 8.64e15;

/** A BSON datetime outside JavaScript's Date range, written back exactly (bson serializes `getTime()`). */
export class WideDate extends Date {
  readonly ms: number;
  constructor(ms: number) {
    super(NaN);
    this.ms = ms;
  }
  override getTime(): number {
    return this.ms;
  }
  override valueOf(): number {
    return this.ms;
  }
  override toISOString(): string {
    return `datetime(${this.ms} ms)`;
  }
  override toJSON(): string {
    return this.toISOString();
  }
}

export class UnrepresentableValueError extends Error {
  constructor(readonly path: string, detail: string) {
    super(`${path}: ${detail}`);
    this.name = 'UnrepresentableValueError';
  }
}

/** Decodes a raw document so that serializing the result gives back `raw` byte for byte. */
export function decodeExact(raw: Uint8Array): Document {
  const decoded = deserialize(raw, EXACT_DECODE);
  if (!needsRebuild(raw, 0, false)) return decoded;
  return rebuild(raw, 0, decoded, false, '') as Document;
}

/** True when the document has integer-like keys outside arrays, or a date JavaScript cannot hold. */
function needsRebuild(doc: Uint8Array, start: number, isArray: boolean): boolean {
  const view = new DataView(doc.buffer, doc.byteOffset, doc.byteLength);
  const end = start + view.getInt32(start, true) - 1;
  let pos = start + 4;
  while (pos < end) {
    const type = doc[pos++]!;
    const first = doc[pos]!;
    const nameStart = pos;
    while (pos < end && doc[pos] !== 0) pos++;
    if (!isArray && first >= 0x30 && first <= 0x39 && isIntegerKey(doc, nameStart, pos)) return true;
    pos++;
    if (type === 0x09) {
      const ms = Number(view.getBigInt64(pos, true));
      if (Math.abs(ms) > DATE_RANGE_MS) return true;
    } else if (type === 0x03 || type === 0x04) {
      if (needsRebuild(doc, pos, type === 0x04)) return true;
    } else if (type === 0x0f) {
      // code with scope: its scope is a document too
      const codeLength = view.getInt32(pos + 4, true);
      if (needsRebuild(doc, pos + 8 + codeLength, false)) return true;
    }
    const size = valueSize(type, view, doc, pos);
    if (size < 0) return false; // unknown type: deserialize already refused or kept it
    pos += size;
  }
  return false;
}

/** A key JavaScript would move to the front of an object: a canonical array index. */
function isIntegerKey(doc: Uint8Array, from: number, to: number): boolean {
  if (to - from > 10 || (doc[from] === 0x30 && to - from > 1)) return false;
  let value = 0;
  for (let i = from; i < to; i++) {
    const c = doc[i]!;
    if (c < 0x30 || c > 0x39) return false;
    value = value * 10 + (c - 0x30);
  }
  return value < 2 ** 32 - 1;
}

/** Walks the raw bytes and the decoded value together, keeping key order and exact dates. */
function rebuild(doc: Uint8Array, start: number, decoded: unknown, isArray: boolean, path: string): unknown {
  const view = new DataView(doc.buffer, doc.byteOffset, doc.byteLength);
  const end = start + view.getInt32(start, true) - 1;
  const source = decoded as Record<string, unknown>;
  const out = isArray ? ([] as unknown[]) : new Map<string, unknown>();
  let pos = start + 4;
  while (pos < end) {
    const type = doc[pos++]!;
    const nameStart = pos;
    while (pos < end && doc[pos] !== 0) pos++;
    const name = Buffer.from(doc.buffer, doc.byteOffset + nameStart, pos - nameStart).toString('utf8');
    pos++;
    const here = path ? `${path}.${name}` : name;
    let value = source[name];
    if (type === 0x09) {
      const ms = view.getBigInt64(pos, true);
      if (ms > BigInt(Number.MAX_SAFE_INTEGER) || ms < -BigInt(Number.MAX_SAFE_INTEGER)) {
        throw new UnrepresentableValueError(here, `datetime ${ms} ms is beyond what the MongoDB driver can write exactly (±2^53 ms)`);
      }
      if (Math.abs(Number(ms)) > DATE_RANGE_MS) value = new WideDate(Number(ms));
    } else if (type === 0x03 || type === 0x04) {
      value = rebuild(doc, pos, value, type === 0x04, here);
    }
    if (Array.isArray(out)) out.push(value);
    else out.set(name, value);
    pos += valueSize(type, view, doc, pos);
  }
  return out;
}
