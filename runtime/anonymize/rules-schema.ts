/**
 * The shape of `anonymization-rules.yaml`. Every object is strict, so a
 * misspelt key is an error rather than a rule that silently does nothing;
 * each transform validates its own parameters (transforms/registry.ts).
 */
import { z } from 'zod';
import { findTransform, transformNames } from './transforms/registry.js';

/** A strict object whose unknown-key error lists the keys that are allowed. */
function strictObject<Shape extends z.ZodRawShape>(shape: Shape) {
  const allowed = Object.keys(shape).join(', ');
  return z.strictObject(shape, {
    error: (issue) => (issue.code === 'unrecognized_keys' ? `unknown key ${quoteList(issue.keys)}; allowed keys: ${allowed}` : undefined),
  });
}

export interface ParsedTransformSpec {
  transform: string;
  params: Record<string, unknown>;
  /** Scrub personal data out of kept strings; only for keep and keep_subtree (default true there). */
  scrub?: boolean;
  /** `hash`: the keys of the subdocument at this path are replaced by keyed pseudonyms. */
  keys?: 'hash';
}

/** Options every rule may carry, next to the transform's own parameters. */
const RULE_OPTIONS = ['scrub', 'keys'] as const;

/** `Email: hash_email` is shorthand for `Email: { transform: hash_email }`. */
const transformSpec = z
  .preprocess(
    (input) => (typeof input === 'string' ? { transform: input } : input),
    z.looseObject({ transform: z.string({ error: 'expected a transform name (a string)' }) }, {
      error: (issue) =>
        issue.code === 'invalid_type' ? `expected { transform: NAME, ...parameters } or a transform name; transforms: ${transformNames().join(', ')}` : undefined,
    }),
  )
  .transform((input, ctx): ParsedTransformSpec => {
    const { transform, scrub, keys, ...rest } = input;
    const definition = findTransform(transform);
    if (!definition) {
      ctx.issues.push({
        code: 'custom',
        path: ['transform'],
        message: `unknown transform "${transform}"; allowed: ${transformNames().join(', ')}`,
        input: transform,
      });
      return z.NEVER;
    }
    const parsed = definition.params.safeParse(rest);
    if (!parsed.success) {
      const allowed = paramNames(definition.params);
      for (const issue of parsed.error.issues) {
        const message =
          issue.code === 'unrecognized_keys'
            ? `unknown parameter ${quoteList(issue.keys)} for transform "${transform}"; allowed: ${['transform', ...allowed, ...RULE_OPTIONS].join(', ')}`
            : `transform "${transform}": ${polishMessage(issue.message)}`;
        const path = issue.code === 'unrecognized_keys' && issue.keys[0] !== undefined ? [...issue.path, issue.keys[0]] : issue.path;
        ctx.issues.push({ code: 'custom', path: path as PropertyKey[], message, input: rest });
      }
      return z.NEVER;
    }
    const options: Pick<ParsedTransformSpec, 'scrub' | 'keys'> = {};
    if (scrub !== undefined) {
      if (typeof scrub !== 'boolean') ctx.issues.push({ code: 'custom', path: ['scrub'], message: 'scrub is true or false', input: scrub });
      else if (!definition.keepsValue) {
        ctx.issues.push({ code: 'custom', path: ['scrub'], message: `scrub applies to kept strings only (keep, keep_subtree), not to "${transform}"`, input: scrub });
      } else options.scrub = scrub;
    }
    if (keys !== undefined) {
      if (keys !== 'hash') ctx.issues.push({ code: 'custom', path: ['keys'], message: 'keys: hash is the only option (keys are replaced by keyed pseudonyms)', input: keys });
      else if (definition.wholeValue) {
        ctx.issues.push({ code: 'custom', path: ['keys'], message: `"${transform}" replaces the whole value, so there are no keys left to hash`, input: keys });
      } else options.keys = 'hash';
    }
    return { transform, params: parsed.data as Record<string, unknown>, ...options };
  });

const follows = strictObject({
  collection: z.string().min(1),
  /** The child's field that holds the parent's reference (dot path). */
  field: z.string().min(1),
  /** Which field of the parent that reference points at. */
  references: z.string().min(1).default('_id'),
});

const collectionRules = strictObject({
  fields: z.record(z.string(), transformSpec).nullable().optional(),
  default: transformSpec.optional(),
  privacy_by_default: z.boolean().optional(),
});

const sizeLimit = strictObject({
  max_documents: z.number().int().positive().optional(),
  follows: follows.optional(),
});

export const rulesFileSchema = strictObject({
  version: z.union([z.literal(1), z.literal(2)], { error: 'version is 1 or 2' }).optional(),
  /** What happens to a field no rule names: mask it (default) or fail the run. */
  unnamed_fields: z.enum(['mask', 'refuse']).optional(),
  /** What happens to a collection no rule, exclusion or size limit names: fail the run (default) or leave it out. */
  unnamed_collections: z.enum(['refuse', 'drop']).optional(),
  rules: z.record(z.string(), collectionRules.nullable()).nullable().optional(),
  exclusions: z.array(z.string().min(1)).nullable().optional(),
  size_limits: z.record(z.string(), sizeLimit).nullable().optional(),
});

export type RulesFile = z.output<typeof rulesFileSchema>;

/** zod's wording for a missing key is "received undefined"; say it plainly. */
export function polishMessage(message: string): string {
  return message
    .replace(/^Invalid input: expected (\w+), received undefined$/, 'required, but missing (expected $1)')
    .replace(/^Invalid input: /, '');
}

function paramNames(schema: z.ZodType): string[] {
  return schema instanceof z.ZodObject ? Object.keys(schema.shape) : [];
}

function quoteList(keys: readonly string[]): string {
  return keys.map((k) => `"${k}"`).join(', ');
}
