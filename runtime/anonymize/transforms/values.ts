/**
 * The type-safety policy shared by transforms that expect text. A field that
 * should hold a string may hold anything in a real database; whatever it
 * holds must neither crash the run nor leave unchanged when it could carry
 * personal data:
 *  - null and absent values stay as they are (they carry nothing);
 *  - booleans stay (one bit identifies no one);
 *  - strings are transformed;
 *  - every other scalar (numbers, dates, ObjectIds, binaries, ...) is turned
 *    into its canonical text and transformed, so a phone number stored as a
 *    number comes out as a pseudonym string;
 *  - arrays and subdocuments are walked, transforming every leaf, so their
 *    shape survives but none of their text does.
 */
import { Binary, BSONRegExp, Code, Decimal128, Double, Int32, Long, ObjectId, Timestamp } from 'bson';
import { REMOVE, type BsonValue, type TransformResult } from './types.js';

export function mapTextLeaves(value: BsonValue, transform: (text: string) => TransformResult): TransformResult {
  if (value === null || value === undefined || typeof value === 'boolean') return value;
  if (typeof value === 'string') return transform(value);
  if (Array.isArray(value)) {
    return value.map((item) => mapTextLeaves(item, transform)).filter((item) => item !== REMOVE);
  }
  if (isSubdocument(value)) {
    const out: Record<string, unknown> = {};
    for (const [name, item] of Object.entries(value)) {
      const mapped = mapTextLeaves(item, transform);
      if (mapped !== REMOVE) out[name] = mapped;
    }
    return out;
  }
  return transform(scalarText(value));
}

/** A plain (sub)document as bson decodes it: not an array and not one of bson's value classes. */
export function isSubdocument(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** Stable text for a non-string scalar; the same value always gives the same text. */
export function scalarText(value: unknown): string {
  if (value instanceof Int32 || value instanceof Double) return String(value.value);
  if (value instanceof Long) return value.toString();
  if (value instanceof Decimal128) return value.toString();
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'invalid-date' : value.toISOString();
  if (value instanceof ObjectId) return value.toHexString();
  if (value instanceof Binary) return Buffer.from(value.buffer).toString('hex');
  if (value instanceof BSONRegExp) return `/${value.pattern}/${value.options}`;
  if (value instanceof Code) return value.code;
  if (value instanceof Timestamp) return value.toString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('hex');
  return String(value);
}

/** Lower-case hex of `bytes`, cut to `length` characters. */
export function hexPrefix(bytes: Buffer, length: number): string {
  return bytes.toString('hex').slice(0, length);
}

/**
 * Numbered pseudonyms need 9·10^14 possible values to stay unique among
 * 10^7 distinct inputs (expected colliding pairs n²/2/space ≈ 0.06). Fewer
 * digits merge different people into one pseudonym and make each number
 * a small, guessable bucket.
 */
export const MIN_UNIQUE_DIGITS = 15;
export const UNIQUE_DIGITS_MESSAGE = `digits must be at least ${MIN_UNIQUE_DIGITS}, so pseudonyms stay unique among 10 million values`;

/** A decimal number with exactly `digits` digits derived from `bytes` (first digit never 0). */
export function decimalDigits(bytes: Buffer, digits: number): string {
  const space = 9n * 10n ** BigInt(digits - 1);
  const n = bytes.readBigUInt64BE(0) % space;
  return (10n ** BigInt(digits - 1) + n).toString();
}
