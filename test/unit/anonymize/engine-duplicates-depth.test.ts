/**
 * Duplicate keys at every nesting level: the engine walks a level again
 * without the earlier copies, and used to walk each subdocument again with
 * it, at every level below as well (2^depth walks: a 1 KB document stalled a
 * run with no error). Each level's names are now checked before its first
 * subdocument is walked, so every subdocument is walked once.
 */
import { describe, expect, it } from 'vitest';
import { T } from '../../../runtime/anonymize/bson-raw.js';
import { createAnonymizer } from '../../../runtime/anonymize/engine.js';
import { TEST_KEY, decode, documentOf, element, rules } from './helpers.js';

const int32 = (n: number) => Buffer.from(Int32Array.of(n).buffer);

/** {a: {a: … {x: 1} …, d: 1, d: 2}, d: 1, d: 2}: the duplicate comes after the subdocument, at every level. */
function nested(depth: number): Buffer {
  let doc = documentOf(element(T.int32, 'x', int32(1)));
  for (let level = 0; level < depth; level++) doc = documentOf(element(T.document, 'a', doc), element(T.int32, 'd', int32(1)), element(T.int32, 'd', int32(2)));
  return doc;
}

describe('duplicate keys below one another', () => {
  it.each([
    ['keep_subtree', 'rules: { c: { fields: { Prefs: { transform: keep_subtree, reason: preferences } } } }'],
    ['the mask default', 'rules: { c: {} }'],
  ])('walks a 60-level document with a duplicate at every level once per level (%s), keeping each last value', (_name, yaml) => {
    const bytes = documentOf(element(T.document, 'Prefs', nested(60)));
    const out = createAnonymizer(rules(yaml), TEST_KEY).forCollection('c')!.anonymize(bytes);
    let level = decode(out).Prefs as Record<string, unknown>;
    let depth = 0;
    while (level && typeof level === 'object' && Object.keys(level).length > 1) {
      const keys = Object.keys(level);
      expect(keys).toHaveLength(2); // one `a` (or its pseudonym) and one `d`: the earlier `d` is gone
      level = level[keys[0]!] as Record<string, unknown>;
      depth++;
    }
    expect(depth).toBe(60);
  });
});
