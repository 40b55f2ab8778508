/**
 * Equality of BSON values for `follows`. SyRF ids are often binary UUIDs
 * (subtype 3, the C# driver's legacy layout), which JavaScript compares by
 * object identity; a canonical string of type and bytes makes them usable as
 * Set keys. Numbers compare by value across Int32/Int64/Double, as MongoDB
 * compares them; UUID subtypes 3 and 4 stay distinct because their byte order differs.
 */
import { createHash } from 'node:crypto';
import { BSON, Binary, Decimal128, Double, Int32, Long, ObjectId } from 'bson';
import type { PathSegment } from '../anonymize/paths.js';
import { isSubdocument } from '../anonymize/transforms/values.js';

export function canonicalKey(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return `s:${value}`;
  if (typeof value === 'boolean') return `B:${value}`;
  if (value instanceof Int32 || value instanceof Double) return numberKey(value.value);
  if (typeof value === 'number') return numberKey(value);
  if (value instanceof Long) return `n:${value.toString()}`;
  if (typeof value === 'bigint') return `n:${value.toString()}`;
  if (value instanceof Binary) return `b:${value.sub_type}:${Buffer.from(value.buffer).toString('hex')}`;
  if (value instanceof ObjectId) return `o:${value.toHexString()}`;
  if (value instanceof Date) return `t:${value.getTime()}`;
  if (value instanceof Decimal128) return `d:${value.toString()}`;
  return `x:${Buffer.from(BSON.serialize({ v: value })).toString('hex')}`;
}

function numberKey(n: number): string {
  return Number.isInteger(n) ? `n:${BigInt(n).toString()}` : `n:${n}`;
}

/**
 * Every value at `segments` in `doc`, stepping into arrays on the way and
 * expanding an array at the end (so `ProjectIds: [a, b]` yields a and b), as
 * a MongoDB equality query would match.
 */
export function valuesAt(doc: unknown, segments: readonly PathSegment[]): unknown[] {
  const out: unknown[] = [];
  collect(doc, segments, 0, out);
  return out;
}

function collect(value: unknown, segments: readonly PathSegment[], depth: number, out: unknown[]): void {
  if (value === undefined) return;
  if (Array.isArray(value)) {
    for (const item of value) collect(item, segments, depth, out);
    return;
  }
  if (depth === segments.length) {
    out.push(value);
    return;
  }
  if (isSubdocument(value)) collect(value[segments[depth]!.name], segments, depth + 1, out);
}

/** Position of a document in the deterministic size-limit order: the first 64 bits of SHA-256 of its `_id`'s canonical key. */
export function rankOfId(id: unknown): bigint {
  return createHash('sha256').update(canonicalKey(id), 'utf8').digest().readBigUInt64BE(0);
}
