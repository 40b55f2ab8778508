/**
 * Reading and writing BSON elements in place, without decoding documents
 * into JavaScript objects: a JavaScript object reorders numeric-string keys,
 * loses duplicate keys and dates beyond ±8.64e15 ms, and cannot always
 * reproduce the bytes it came from. The engine walks these views and
 * rewrites only the elements a rule changes.
 */
import { BSON, type Document } from 'bson';

export const T = {
  double: 0x01,
  string: 0x02,
  document: 0x03,
  array: 0x04,
  binary: 0x05,
  undefined: 0x06,
  objectId: 0x07,
  boolean: 0x08,
  date: 0x09,
  null: 0x0a,
  regex: 0x0b,
  dbPointer: 0x0c,
  code: 0x0d,
  symbol: 0x0e,
  codeWithScope: 0x0f,
  int32: 0x10,
  timestamp: 0x11,
  int64: 0x12,
  decimal128: 0x13,
  minKey: 0xff,
  maxKey: 0x7f,
} as const;

/** Decoding keeps every BSON type (Int32 stays Int32, UUIDs stay Binary), so values re-encode as they were. */
export const DECODE_OPTIONS = {
  promoteValues: false,
  promoteLongs: false,
  promoteBuffers: false,
  bsonRegExp: true,
  // Invalid UTF-8 must not abort a run; it is decoded with replacement characters and transformed like any text.
  validation: { utf8: false },
} as const;

/** A document (or value inside one) that is not well-formed BSON. */
export class UndecodableDocumentError extends Error {}

const FIXED_VALUE_SIZES: Record<number, number> = {
  0x01: 8,
  0x06: 0,
  0x07: 12,
  0x08: 1,
  0x09: 8,
  0x0a: 0,
  0x10: 4,
  0x11: 8,
  0x12: 8,
  0x13: 16,
  0xff: 0,
  0x7f: 0,
};

/**
 * Bytes of the value of an element of `type` starting at `at`, checked
 * against `limit` (the offset it must end before); -1 when the type is
 * unknown or the lengths do not fit.
 */
export function valueSize(bytes: Buffer, type: number, at: number, limit: number): number {
  const fixed = FIXED_VALUE_SIZES[type];
  if (fixed !== undefined) return at + fixed <= limit ? fixed : -1;
  if (type === T.regex) {
    const pattern = bytes.indexOf(0, at);
    const flags = pattern < 0 || pattern >= limit ? -1 : bytes.indexOf(0, pattern + 1);
    return flags < 0 || flags >= limit ? -1 : flags + 1 - at;
  }
  if (at + 4 > limit) return -1;
  const length = bytes.readInt32LE(at);
  let size: number;
  switch (type) {
    case T.string:
    case T.code:
    case T.symbol:
      if (length < 1) return -1;
      size = 4 + length;
      if (at + size > limit || bytes[at + size - 1] !== 0) return -1;
      return size;
    case T.document:
    case T.array:
      if (length < 5 || at + length > limit || bytes[at + length - 1] !== 0) return -1;
      return length;
    case T.codeWithScope:
      return length >= 14 && at + length <= limit ? length : -1;
    case T.binary:
      size = 5 + length;
      return length >= 0 && at + size <= limit ? size : -1;
    case T.dbPointer:
      size = 4 + length + 12;
      return length >= 1 && at + size <= limit ? size : -1;
    default:
      return -1;
  }
}

/** The value of one element, decoded with DECODE_OPTIONS (through a one-element document). */
export function decodeValue(bytes: Buffer, type: number, start: number, end: number): unknown {
  const doc = Buffer.allocUnsafe(4 + 1 + 1 + (end - start) + 1);
  doc.writeInt32LE(doc.length, 0);
  doc[4] = type;
  doc[5] = 0;
  bytes.copy(doc, 6, start, end);
  doc[doc.length - 1] = 0;
  try {
    return (BSON.deserialize(doc, DECODE_OPTIONS) as Document)[''];
  } catch (error) {
    throw new UndecodableDocumentError((error as Error).message, { cause: error });
  }
}

export interface EncodedValue {
  type: number;
  bytes: Buffer;
}

/** A JavaScript value as a BSON element's type and value bytes. */
export function encodeValue(value: unknown): EncodedValue {
  if (typeof value === 'string') return { type: T.string, bytes: encodeString(value) };
  const doc = Buffer.from(BSON.serialize({ '': value }, { ignoreUndefined: false }));
  return { type: doc[4]!, bytes: doc.subarray(6, doc.length - 1) };
}

/** A BSON string value: int32 length, UTF-8, NUL. */
export function encodeString(text: string): Buffer {
  const length = Buffer.byteLength(text, 'utf8');
  const out = Buffer.allocUnsafe(4 + length + 1);
  out.writeInt32LE(length + 1, 0);
  out.write(text, 4, 'utf8');
  out[4 + length] = 0;
  return out;
}

/** An element header: type byte, name, NUL. */
export function elementHeader(type: number, name: string | Buffer): Buffer {
  const nameBytes = typeof name === 'string' ? Buffer.from(name, 'utf8') : name;
  const out = Buffer.allocUnsafe(1 + nameBytes.length + 1);
  out[0] = type;
  nameBytes.copy(out, 1);
  out[out.length - 1] = 0;
  return out;
}

/** True when the bytes [start, end) spell the decimal `index` (an array's canonical key). */
export function isIndexName(bytes: Buffer, start: number, end: number, index: number): boolean {
  if (index < 10) return end - start === 1 && bytes[start] === 48 + index;
  const text = String(index);
  if (end - start !== text.length) return false;
  for (let i = 0; i < text.length; i++) if (bytes[start + i] !== text.charCodeAt(i)) return false;
  return true;
}

const NAME_CACHE_SLOTS = 1024;
const MAX_CACHED_NAME = 48;
const nameCacheBytes: Array<Buffer | undefined> = new Array(NAME_CACHE_SLOTS);
const nameCacheText: string[] = new Array(NAME_CACHE_SLOTS);

/**
 * `bytes.toString('utf8', start, end)` for element names. Documents of one
 * collection repeat the same few names millions of times: short ASCII names
 * are looked up in a small cache (by a hash of their bytes, then compared
 * byte for byte) instead of being decoded again each time.
 */
export function decodeName(bytes: Buffer, start: number, end: number): string {
  const length = end - start;
  if (length > MAX_CACHED_NAME) return bytes.toString('utf8', start, end);
  let hash = length;
  for (let i = start; i < end; i++) {
    const byte = bytes[i]!;
    if (byte >= 0x80) return bytes.toString('utf8', start, end);
    hash = Math.imul(hash ^ byte, 0x01000193);
  }
  const slot = (hash >>> 0) & (NAME_CACHE_SLOTS - 1);
  const cached = nameCacheBytes[slot];
  if (cached !== undefined && cached.length === length) {
    let same = true;
    for (let i = 0; i < length; i++) {
      if (cached[i] !== bytes[start + i]) {
        same = false;
        break;
      }
    }
    if (same) return nameCacheText[slot]!;
  }
  const text = bytes.toString('latin1', start, end);
  nameCacheBytes[slot] = Buffer.from(bytes.subarray(start, end));
  nameCacheText[slot] = text;
  return text;
}
