import { Binary, Decimal128, Double, Int32, Long, ObjectId, Timestamp } from 'bson';
import { z } from 'zod';
import { defineTransform, type BsonValue, type TransformContext } from './types.js';
import { hexPrefix, isSubdocument, scalarText } from './values.js';

const UUID_SUBTYPES = new Set([Binary.SUBTYPE_UUID_OLD, Binary.SUBTYPE_UUID]);
const EPOCH = new Date(0);

/**
 * The transform behind `privacy_by_default`: hides content while keeping
 * each value's BSON type, so the application can still load the documents.
 *  - strings → "masked-<16 hex>" (keyed, so equal values stay equal);
 *  - numbers → 0 of the same type; dates → 1970-01-01; other binaries → empty;
 *  - ObjectIds, UUID binaries and `_id` fields of subdocuments are kept: they
 *    are opaque references other documents join on, not personal data;
 *  - booleans and null are kept; arrays and subdocuments are masked leaf by leaf.
 */
export const mask = defineTransform({
  name: 'mask',
  summary: 'type-preserving mask (strings → masked-<hex>, numbers → 0, dates → epoch; ids kept); what privacy_by_default applies',
  params: z.strictObject({}),
  create(_params, context) {
    return (value) => maskValue(value, context);
  },
});

function maskValue(value: BsonValue, context: TransformContext): BsonValue {
  if (value === null || value === undefined || typeof value === 'boolean') return value;
  if (typeof value === 'string') return value === '' ? value : `masked-${hexPrefix(context.mac('mask', value), 16)}`;
  if (Array.isArray(value)) return value.map((item) => maskValue(item, context));
  if (isSubdocument(value)) {
    const out: Record<string, unknown> = {};
    for (const [name, item] of Object.entries(value)) out[name] = name === '_id' ? item : maskValue(item, context);
    return out;
  }
  if (value instanceof Int32) return new Int32(0);
  if (value instanceof Double) return new Double(0);
  if (value instanceof Long) return Long.fromNumber(0);
  if (value instanceof Decimal128) return Decimal128.fromString('0');
  if (typeof value === 'number') return 0;
  if (typeof value === 'bigint') return 0n;
  if (value instanceof Date) return EPOCH;
  if (value instanceof Timestamp) return new Timestamp({ t: 0, i: 0 });
  if (value instanceof ObjectId) return value;
  if (value instanceof Binary) return UUID_SUBTYPES.has(value.sub_type) ? value : new Binary(Buffer.alloc(0), value.sub_type);
  return `masked-${hexPrefix(context.mac('mask', scalarText(value)), 16)}`;
}
