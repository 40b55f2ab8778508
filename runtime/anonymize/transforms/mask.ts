import { z } from 'zod';
import { T, encodeString, type EncodedValue } from '../bson-raw.js';
import { defineTransform, type TransformContext } from './types.js';
import { hexPrefix } from './values.js';

/**
 * The default for every field no rule names: hides content while keeping
 * each value's BSON type, so the application can still load the documents.
 * Every type is handled:
 *  - strings, JavaScript code, symbols → "masked-<16 hex>" (keyed, so equal
 *    values stay equal); regular expressions keep their flags only;
 *    code with scope loses its scope;
 *  - numbers (double, int32, int64, Decimal128) → 0; dates → 1970-01-01;
 *    timestamps → 0;
 *  - binaries → empty, except UUIDs (subtypes 3 and 4, any length) and
 *    ObjectIds, which get keyed pseudonyms of the same type and length
 *    (16 and 12 bytes): their bytes may hold anything, and equal ids stay
 *    equal, so references masked alike still join; a rule `keep`s the ids
 *    previews must join to unmasked data;
 *  - booleans, null, MinKey/MaxKey are kept (single bits identify no one);
 *  - identifiers (`_id`, a DBRef's `$id`) keep numbers, and other values
 *    get keyed pseudonyms rather than constants, so they stay unique.
 * Subdocuments and arrays are masked leaf by leaf by the engine, which also
 * masks keys that look like personal data and a DBRef's extra fields.
 */
export const mask = defineTransform({
  name: 'mask',
  summary: 'type-preserving mask (strings → masked-<hex>, numbers → 0, dates → epoch; UUIDs and ObjectIds keyed); the default for unnamed fields',
  params: z.strictObject({}),
  create(_params, context) {
    // Values reach the raw masker through the engine; a lazy import avoids a module cycle.
    return (value) => maskJsValue(value, context);
  },
});

let maskJsValue: (value: unknown, context: TransformContext) => unknown = () => {
  throw new Error('the anonymization engine is not loaded');
};

/** Set by the engine, which owns the walk over subdocuments. */
export function registerJsMasker(masker: typeof maskJsValue): void {
  maskJsValue = masker;
}

const ZERO_8 = Buffer.alloc(8);
const ZERO_4 = Buffer.alloc(4);
/** Decimal128 zero: exponent bias 6176 in the high 64 bits (0x3040000000000000). */
const DECIMAL_ZERO = Buffer.from('00000000000000000000000000004030', 'hex');
const EMPTY_REGEX = Buffer.from([0, 0]);
const REGEX_FLAGS = 'ilmsux';

export function maskedText(text: string, context: TransformContext): string {
  return text === '' ? text : `masked-${hexPrefix(context.mac('mask', text), 16)}`;
}

/**
 * The masked form of one scalar element value (bytes[start, end) of `type`),
 * or null when it is kept as it is. Subdocuments and arrays never reach here.
 */
/**
 * `isId`: 'top' for a document's own `_id` (numbers kept: they are the
 * application's keys), 'nested' for an `_id`/`$id` below the top level (a
 * number there may be anything, e.g. a phone number: keyed instead), false
 * for any other value.
 */
export type IdPosition = 'top' | 'nested' | false;

export function maskScalar(bytes: Buffer, type: number, start: number, end: number, isId: IdPosition | boolean, context: TransformContext): EncodedValue | null {
  const id: IdPosition = isId === true ? 'top' : isId;
  switch (type) {
    case T.null:
    case T.undefined:
    case T.boolean:
    case T.minKey:
    case T.maxKey:
      return null;
    case T.objectId:
      return keyedObjectId(bytes, start, context);
    case T.dbPointer: {
      // namespace string, then a 12-byte ObjectId: the ObjectId is a reference, the namespace may be anything.
      const textLength = bytes.readInt32LE(start);
      if (textLength <= 1) return null;
      const namespace = bytes.toString('utf8', start + 4, start + 4 + textLength - 1);
      return { type, bytes: Buffer.concat([encodeString(maskedText(namespace, context)), keyedObjectId(bytes, start + 4 + textLength, context).bytes]) };
    }
    case T.double:
      if (id === 'top') return null;
      if (id === 'nested') return keyedNumber(bytes, type, start, end, context);
      return bytes.compare(ZERO_8, 0, 8, start, end) === 0 ? null : { type, bytes: ZERO_8 };
    case T.int32:
      if (id === 'top') return null;
      if (id === 'nested') return keyedNumber(bytes, type, start, end, context);
      return bytes.compare(ZERO_4, 0, 4, start, end) === 0 ? null : { type, bytes: ZERO_4 };
    case T.int64:
    case T.timestamp:
    case T.date:
      if (id === 'top') return type === T.date ? keyedId(bytes, type, start, end, context) : null;
      if (id === 'nested') return type === T.int64 ? keyedNumber(bytes, type, start, end, context) : keyedId(bytes, type, start, end, context);
      return bytes.compare(ZERO_8, 0, 8, start, end) === 0 ? null : { type, bytes: ZERO_8 };
    case T.decimal128:
      if (id === 'top') return null;
      if (id === 'nested') return keyedNumber(bytes, type, start, end, context);
      return { type, bytes: DECIMAL_ZERO };
    case T.string:
    case T.code:
    case T.symbol: {
      if (end - start === 5) return null; // the empty string
      const text = bytes.toString('utf8', start + 4, end - 1);
      return { type, bytes: encodeString(`masked-${hexPrefix(context.mac('mask', text), id ? 24 : 16)}`) };
    }
    case T.regex: {
      // pattern NUL flags NUL: the flags are syntax, the pattern may be data.
      const patternEnd = bytes.indexOf(0, start);
      const pattern = bytes.toString('utf8', start, patternEnd);
      const masked = pattern === '' ? '' : `masked-${hexPrefix(context.mac('mask', pattern), 16)}`;
      // Only flag letters MongoDB knows, sorted and once each: anything else after the pattern may be data.
      const given = bytes.toString('latin1', patternEnd + 1, end - 1);
      const flags = Buffer.from([...REGEX_FLAGS].filter((flag) => given.includes(flag)).join('') + '\0', 'latin1');
      return { type, bytes: masked === '' ? Buffer.concat([EMPTY_REGEX.subarray(0, 1), flags]) : Buffer.concat([Buffer.from(masked + '\0', 'utf8'), flags]) };
    }
    case T.codeWithScope: {
      const codeLength = bytes.readInt32LE(start + 4);
      const code = bytes.toString('utf8', start + 8, start + 8 + codeLength - 1);
      const maskedCode = encodeString(code === '' ? '' : `masked-${hexPrefix(context.mac('mask', code), 16)}`);
      const emptyScope = Buffer.from([5, 0, 0, 0, 0]);
      const total = 4 + maskedCode.length + emptyScope.length;
      const out = Buffer.allocUnsafe(total);
      out.writeInt32LE(total, 0);
      maskedCode.copy(out, 4);
      emptyScope.copy(out, 4 + maskedCode.length);
      return { type, bytes: out };
    }
    case T.binary:
      return maskBinary(bytes, start, end, id !== false, context);
    default:
      return null;
  }
}

/** A keyed date for a date used as an identifier: unique like the original, unrelated to it. */
function keyedId(bytes: Buffer, type: number, start: number, end: number, context: TransformContext): EncodedValue {
  const mac = context.mac('mask:id', bytes.toString('hex', start, end));
  const out = Buffer.from(mac.subarray(0, end - start));
  // Below 2^43 ms (year 2248): positive and within every reader's date range.
  out[5]! &= 0x07;
  out[6] = 0;
  out[7] = 0;
  return { type, bytes: out };
}

/** A keyed number of the same BSON type, for a number used as a nested identifier: unique like the original, unrelated to it. */
function keyedNumber(bytes: Buffer, type: number, start: number, end: number, context: TransformContext): EncodedValue {
  const mac = context.mac('mask:id', `${type}:${bytes.toString('hex', start, end)}`);
  const value = mac.readUInt32BE(0) * 0x200000 + (mac.readUInt32BE(4) & 0x1fffff); // < 2^53
  switch (type) {
    case T.int32: {
      const out = Buffer.allocUnsafe(4);
      out.writeInt32LE(mac.readUInt32BE(0) & 0x7fffffff, 0);
      return { type, bytes: out };
    }
    case T.double: {
      const out = Buffer.allocUnsafe(8);
      out.writeDoubleLE(value, 0);
      return { type, bytes: out };
    }
    case T.int64: {
      const out = Buffer.allocUnsafe(8);
      out.writeBigInt64LE(BigInt(value), 0);
      return { type, bytes: out };
    }
    default: {
      // Decimal128 of a non-negative integer below 2^53: coefficient in the low bits, exponent 0 (bias 6176).
      const out = Buffer.alloc(16);
      out.writeBigUInt64LE(BigInt(value), 0);
      out.writeBigUInt64LE(0x3040000000000000n, 8);
      return { type: T.decimal128, bytes: out };
    }
  }
}

/** ObjectIds may hold any 12 bytes: keyed 12 bytes, stable per key so references masked alike still join. */
function keyedObjectId(bytes: Buffer, start: number, context: TransformContext): EncodedValue {
  const out = Buffer.allocUnsafe(12);
  context.mac('mask:objectid', bytes.toString('hex', start, start + 12)).copy(out, 0, 0, 12);
  return { type: T.objectId, bytes: out };
}

function maskBinary(bytes: Buffer, start: number, end: number, isId: boolean, context: TransformContext): EncodedValue | null {
  const length = bytes.readInt32LE(start);
  const subtype = bytes[start + 4]!;
  if (subtype === 3 || subtype === 4 || isId) {
    // A UUID-typed value may hold anything (16 bytes of text fit), so it is replaced by keyed 16 bytes: the same
    // UUID always gives the same pseudonym, so references between fields masked alike still join.
    const out = Buffer.allocUnsafe(5 + 16);
    out.writeInt32LE(16, 0);
    out[4] = subtype;
    context.mac('mask:binary', bytes.toString('hex', start + 5, end)).copy(out, 5, 0, 16);
    return { type: T.binary, bytes: out };
  }
  if (length === 0 || (subtype === 2 && length === 4)) return null;
  if (subtype === 2) return { type: T.binary, bytes: Buffer.from([4, 0, 0, 0, 2, 0, 0, 0, 0]) }; // old binary: an inner length of 0
  if (subtype === 9) return { type: T.binary, bytes: Buffer.from([2, 0, 0, 0, 9, bytes[start + 5] ?? 0, 0]) }; // vector: dtype kept, no elements
  return { type: T.binary, bytes: Buffer.from([0, 0, 0, 0, subtype]) };
}
