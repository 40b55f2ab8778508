/**
 * A restore-side check that a snapshot claiming `anonymized: true` really
 * holds pseudonyms where the rules say there must be some. It looks at the
 * first documents of every collection with rules, before they are passed on
 * (so none of them is written anywhere if the check fails), and refuses when
 * a field ruled `hash_email` or `hash` holds a string that is not the shape
 * that transform produces. Messages name collection, field and document
 * number, never a value.
 */
import { BSON } from 'bson';
import { ExitCode, UserError } from '../errors.js';
import type { ArchiveEvent } from '../archive/types.js';
import type { Rules } from '../anonymize/rules.js';
import { ANONYMIZED_EMAIL_DOMAIN } from '../anonymize/transforms/hash-email.js';

/** Documents checked per collection (the first ones of the archive). */
export const DEFAULT_PLAUSIBILITY_SAMPLE = 200;

interface Expectation {
  /** Field path without array markers, e.g. `Members.Email`. */
  path: string[];
  rule: string;
  shape: RegExp;
  describe: string;
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** What each checkable transform's output looks like. Transforms with free-form output are not checked. */
function expectationFor(transform: string, params: Record<string, unknown>, normalized: string): Expectation | null {
  const path = normalized.split('.');
  if (transform === 'hash_email') {
    return { path, rule: 'hash_email', shape: new RegExp(`^user-[0-9a-f]{20}@${escape(ANONYMIZED_EMAIL_DOMAIN)}$`), describe: `user-<20 hex>@${ANONYMIZED_EMAIL_DOMAIN}` };
  }
  if (transform === 'hash') {
    const prefix = typeof params.prefix === 'string' ? params.prefix : '';
    const length = typeof params.length === 'number' ? params.length : 32;
    return { path, rule: 'hash', shape: new RegExp(`^${escape(prefix)}[0-9a-f]{${length}}$`), describe: `${prefix}<${length} hex>` };
  }
  return null;
}

export function pseudonymExpectations(rules: Rules): Map<string, Expectation[]> {
  const byCollection = new Map<string, Expectation[]>();
  for (const [collection, entry] of rules.collections) {
    const list = entry.fields.map((f) => expectationFor(f.transform, f.params, f.normalized)).filter((e): e is Expectation => e !== null);
    if (list.length > 0) byCollection.set(collection, list);
  }
  return byCollection;
}

/** Yields `events` unchanged, throwing before a sampled document is passed on if it holds a non-pseudonym where one must be. */
export async function* plausiblePseudonyms(
  events: AsyncIterable<ArchiveEvent>,
  rules: Rules,
  options: { sample?: number; snapshotId?: string } = {},
): AsyncGenerator<ArchiveEvent> {
  const expectations = pseudonymExpectations(rules);
  const sample = options.sample ?? DEFAULT_PLAUSIBILITY_SAMPLE;
  const seen = new Map<string, number>();
  for await (const event of events) {
    if (event.type === 'segment') {
      const checks = expectations.get(event.collection);
      let count = seen.get(event.collection) ?? 0;
      if (checks) {
        for (const bytes of event.documents) {
          if (count >= sample) break;
          count++;
          const document = BSON.deserialize(bytes, { promoteValues: true, bsonRegExp: true }) as Record<string, unknown>;
          for (const check of checks) {
            for (const value of leaves(document, check.path)) {
              if (typeof value === 'string' && value !== '' && !check.shape.test(value)) {
                throw new UserError(
                  `refusing to restore${options.snapshotId ? ` snapshot ${options.snapshotId}` : ''}: its manifest says anonymized: true, but ${event.collection}.${check.path.join('.')} in document #${count} is not a ${check.rule} pseudonym (expected ${check.describe})`,
                  {
                    hint: 'the snapshot is mislabelled or was tampered with; restore another snapshot and report this one (do not restore it with anonymization turned off)',
                    exitCode: ExitCode.refused,
                  },
                );
              }
            }
          }
        }
      } else {
        count += event.documents.length;
      }
      seen.set(event.collection, count);
    }
    yield event;
  }
}

/** Values at `path`, descending into every element of arrays on the way. */
function* leaves(value: unknown, path: readonly string[]): Generator<unknown> {
  if (Array.isArray(value)) {
    for (const item of value) yield* leaves(item, path);
    return;
  }
  if (path.length === 0) {
    yield value;
    return;
  }
  if (value === null || typeof value !== 'object') return;
  const [head, ...rest] = path;
  if (!Object.prototype.hasOwnProperty.call(value, head!)) return;
  yield* leaves((value as Record<string, unknown>)[head!], rest);
}
