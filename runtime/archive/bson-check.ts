/**
 * A byte-level check of one BSON document, run by the archive decoder on
 * every document it frames. It accepts only what every consumer downstream
 * can take: each length consistent, each element type known, every key and
 * every string valid UTF-8, nesting no deeper than MongoDB allows. It is
 * deliberately at least as strict as the `bson` package's deserializer (the
 * restore path decodes with it, and keys it would silently turn into U+FFFD),
 * so `verify` and `anonymize` refuse exactly what a restore could not load.
 *
 * It reads bytes only and allocates nothing on the happy path for ASCII keys,
 * so it costs little next to gunzip.
 */
/** MongoDB refuses documents nested deeper than this (its default `maxBSONDepth`). */
export const MAX_BSON_DEPTH = 200;

const REGEX_OPTIONS = new Set(['i', 'm', 'x', 'l', 's', 'u'].map((c) => c.charCodeAt(0)));

export interface BsonProblem {
  /** What is wrong, without any value from the document. */
  problem: string;
  /** Dotted path of the field where it was found ('' for the document itself). */
  path: string;
}

/** Returns the first problem of `document`, or null when it is well-formed. */
export function bsonProblem(document: Uint8Array): BsonProblem | null {
  const buf = Buffer.isBuffer(document) ? document : Buffer.from(document.buffer, document.byteOffset, document.byteLength);
  const walker = new Walker(buf);
  try {
    walker.document(0, buf.length, 1);
    return null;
  } catch (error) {
    if (error instanceof Invalid) return { problem: error.message, path: walker.path() };
    throw error;
  }
}

class Invalid extends Error {}

class Walker {
  /** [start, end) of the key of each open element, outermost first. */
  private readonly keys: number[] = [];

  constructor(private readonly buf: Buffer) {}

  path(): string {
    const parts: string[] = [];
    for (let i = 0; i < this.keys.length; i += 2) {
      parts.push(this.buf.toString('utf8', this.keys[i]!, this.keys[i + 1]!).replace(/[\u0000-\u001f\ufffd]/g, '?'));
    }
    return parts.join('.');
  }

  /** Checks the document starting at `start`; it must end at or before `limit`. Returns its end. */
  document(start: number, limit: number, depth: number): number {
    const buf = this.buf;
    if (depth > MAX_BSON_DEPTH) throw new Invalid(`nested more than ${MAX_BSON_DEPTH} levels deep (MongoDB's limit)`);
    if (limit - start < 5) throw new Invalid('a document is shorter than the 5-byte minimum');
    const size = buf.readInt32LE(start);
    if (size < 5) throw new Invalid(`a document declares length ${size} (minimum 5)`);
    if (size > limit - start) throw new Invalid(`a document declares length ${size}, more than the ${limit - start} bytes that remain`);
    const end = start + size;
    if (buf[end - 1] !== 0) throw new Invalid('a document does not end with 0x00');
    let pos = start + 4;
    const last = end - 1;
    while (pos < last) {
      const type = buf[pos++]!;
      if (type === 0) throw new Invalid('a document ends (0x00) before its declared length');
      const keyStart = pos;
      let high = 0;
      while (pos < last && buf[pos] !== 0) high |= buf[pos++]!;
      if (pos >= last) throw new Invalid('a field name runs past the end of its document');
      const keyEnd = pos;
      pos++;
      this.keys.push(keyStart, keyEnd);
      if (high & 0x80 && !validUtf8(buf, keyStart, keyEnd)) throw new Invalid('a field name is not valid UTF-8');
      pos = this.value(type, pos, last, depth);
      this.keys.length -= 2;
    }
    return end;
  }

  /** Checks the value of `type` at `pos` (which must end by `last`) and returns the position after it. */
  private value(type: number, pos: number, last: number, depth: number): number {
    const buf = this.buf;
    switch (type) {
      case 0x01: // double
      case 0x09: // UTC datetime
      case 0x11: // timestamp
      case 0x12: // int64
        return fixed(type, pos, 8, last);
      case 0x10: // int32
        return fixed(type, pos, 4, last);
      case 0x13: // decimal128
        return fixed(type, pos, 16, last);
      case 0x07: // ObjectId
        return fixed(type, pos, 12, last);
      case 0x06: // undefined
      case 0x0a: // null
      case 0xff: // MinKey
      case 0x7f: // MaxKey
        return pos;
      case 0x08: {
        const next = fixed(type, pos, 1, last);
        if (buf[pos] !== 0 && buf[pos] !== 1) throw new Invalid(`a boolean holds 0x${buf[pos]!.toString(16)} (only 0 or 1 are allowed)`);
        return next;
      }
      case 0x02: // string
      case 0x0d: // JavaScript code
      case 0x0e: // symbol
        return this.string(pos, last);
      case 0x03:
      case 0x04:
        return this.document(pos, last, depth + 1);
      case 0x05: {
        fixed(type, pos, 5, last);
        const length = buf.readInt32LE(pos);
        const subtype = buf[pos + 4]!;
        if (length < 0 || pos + 5 + length > last) throw new Invalid(`binary data declares length ${length}, past the end of its document`);
        if (subtype === 0x02) {
          if (length < 4 || buf.readInt32LE(pos + 5) !== length - 4) throw new Invalid('old binary (subtype 2) has an inner length that does not match');
        }
        return pos + 5 + length;
      }
      case 0x0b: {
        const patternEnd = this.cstring(pos, last, 'a regular expression pattern');
        const optionsEnd = this.cstring(patternEnd + 1, last, 'regular expression options');
        for (let i = patternEnd + 1; i < optionsEnd; i++) {
          if (!REGEX_OPTIONS.has(buf[i]!)) throw new Invalid('a regular expression has an option other than i, m, x, l, s, u');
        }
        return optionsEnd + 1;
      }
      case 0x0c: {
        // DBPointer: namespace string + ObjectId
        const next = this.string(pos, last);
        if (next + 12 > last) throw new Invalid('a DBPointer runs past the end of its document');
        return next + 12;
      }
      case 0x0f: {
        // code with scope: int32 total, string, document
        fixed(type, pos, 4, last);
        const total = buf.readInt32LE(pos);
        if (total < 14 || pos + total > last) throw new Invalid(`code with scope declares length ${total}, which does not fit its document`);
        const afterCode = this.string(pos + 4, pos + total);
        const afterScope = this.document(afterCode, pos + total, depth + 1);
        if (afterScope !== pos + total) throw new Invalid('code with scope: its declared length does not match its code and scope');
        return afterScope;
      }
      default:
        throw new Invalid(`unknown BSON type 0x${type.toString(16).padStart(2, '0')}`);
    }
  }

  /** int32 length + UTF-8 bytes + 0x00. */
  private string(pos: number, last: number): number {
    const buf = this.buf;
    if (pos + 4 > last) throw new Invalid('a string length runs past the end of its document');
    const length = buf.readInt32LE(pos);
    if (length < 1 || pos + 4 + length > last) throw new Invalid(`a string declares length ${length}, which does not fit its document`);
    const end = pos + 4 + length;
    if (buf[end - 1] !== 0) throw new Invalid('a string does not end with 0x00');
    if (!validUtf8(buf, pos + 4, end - 1)) throw new Invalid('a string is not valid UTF-8');
    return end;
  }

  private cstring(pos: number, last: number, what: string): number {
    const buf = this.buf;
    let high = 0;
    let i = pos;
    while (i < last && buf[i] !== 0) high |= buf[i++]!;
    if (i >= last) throw new Invalid(`${what} runs past the end of its document`);
    if (high & 0x80 && !validUtf8(buf, pos, i)) throw new Invalid(`${what} is not valid UTF-8`);
    return i;
  }
}

function fixed(type: number, pos: number, n: number, last: number): number {
  if (pos + n > last) throw new Invalid(`the value (BSON type 0x${type.toString(16)}) runs past the end of its document`);
  return pos + n;
}

/**
 * Strict UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF), as
 * TextDecoder's fatal mode and MongoDB accept it. Written out rather than
 * calling `isUtf8` on a subarray: for the short strings documents are made
 * of, allocating the view costs more than the loop.
 */
export function validUtf8(buf: Uint8Array, start: number, end: number): boolean {
  let i = start;
  while (i < end) {
    const b = buf[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    if (b >= 0xc2 && b <= 0xdf) {
      if (i + 1 >= end || (buf[i + 1]! & 0xc0) !== 0x80) return false;
      i += 2;
    } else if (b >= 0xe0 && b <= 0xef) {
      if (i + 2 >= end) return false;
      const b1 = buf[i + 1]!;
      if ((b1 & 0xc0) !== 0x80 || (buf[i + 2]! & 0xc0) !== 0x80) return false;
      if (b === 0xe0 && b1 < 0xa0) return false; // overlong
      if (b === 0xed && b1 >= 0xa0) return false; // surrogate
      i += 3;
    } else if (b >= 0xf0 && b <= 0xf4) {
      if (i + 3 >= end) return false;
      const b1 = buf[i + 1]!;
      if ((b1 & 0xc0) !== 0x80 || (buf[i + 2]! & 0xc0) !== 0x80 || (buf[i + 3]! & 0xc0) !== 0x80) return false;
      if (b === 0xf0 && b1 < 0x90) return false; // overlong
      if (b === 0xf4 && b1 >= 0x90) return false; // above U+10FFFF
      i += 4;
    } else {
      return false;
    }
  }
  return true;
}
