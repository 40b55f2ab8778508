import type { z } from 'zod';

/** A decoded BSON value (documents are decoded without promoting numbers, so types survive a round trip). */
export type BsonValue = unknown;

/** Returned by a transform to delete the field (or drop the array element). */
export const REMOVE: unique symbol = Symbol('remove field');
export type TransformResult = BsonValue | typeof REMOVE;

/** Keyed primitives shared by all transforms of one run. */
export interface TransformContext {
  /**
   * HMAC-SHA256(key, domain ‖ 0x00 ‖ input). The domain keeps transforms
   * apart (the `hash` of a value says nothing about its `hash_email`), and
   * it never includes the collection or field, so one value gets the same
   * pseudonym wherever it occurs and joins keep working. The bytes may be
   * shared with other calls (they are memoized): read them, never modify them.
   */
  mac(domain: string, input: string): Buffer;
}

export type ValueTransform = (value: BsonValue) => TransformResult;

export interface TransformDefinition<Schema extends z.ZodType = z.ZodType> {
  /** The name used in the rules file. */
  name: string;
  /** One line for docs and error messages. */
  summary: string;
  /** Parameters, written next to `transform:` in the rules file; a strict object schema. */
  params: Schema;
  /** True for `keep` and `keep_subtree`: the value is published as it is (coverage treats it as an explicit decision). */
  keepsValue?: boolean;
  /** True for `keep_subtree`: every descendant is kept too, not only the named path. */
  keepsSubtree?: boolean;
  /**
   * True when the transform replaces the value as a whole whatever it holds
   * (redact, null, constant, remove). Otherwise it maps each scalar leaf of
   * a subdocument or array, and the engine walks the structure itself.
   */
  wholeValue?: boolean;
  create(params: z.output<Schema>, context: TransformContext): ValueTransform;
}

/** Identity helper that keeps each definition's params type checked against its schema. */
export function defineTransform<Schema extends z.ZodType>(definition: TransformDefinition<Schema>): TransformDefinition<Schema> {
  return definition;
}
