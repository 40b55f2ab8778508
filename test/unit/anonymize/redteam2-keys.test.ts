/**
 * Red team 2, F1: keys are published only where a rule names that exact
 * child path (or under keep_subtree); every other key gets the default: a
 * keyed pseudonym under mask, a refusal under `unnamed_fields: refuse`. The
 * coverage check refuses the same keys the engine refuses.
 */
import { Binary } from 'bson';
import { describe, expect, it } from 'vitest';
import { anonymizeBytes, createAnonymizer, decideKeys, UnnamedFieldError } from '../../../runtime/anonymize/engine.js';
import { TEST_KEY, bson, decode, rules } from './helpers.js';

const ID = new Binary(Buffer.from('0123456789abcdef0123456789abcdef', 'hex'), 4);
const YAML = `rules:
  c:
    fields:
      _id: { transform: keep, reason: referential id of the document }
      FirstName: hash
      CreatedAt: mask
      Screening.Included: { transform: keep, reason: screening decision }
      Answer: { transform: keep, reason: research content }
      Prefs: { transform: keep_subtree, reason: UI settings }
      Prefs.Secret: mask
`;
const MARKERS = ['Zqjane.Doe', 'JaneZqdoe', 'jzqdoe42', 'zqdoe.reviewer', 'zqdeepmask'];
const DOC = {
  _id: ID,
  FirstName: { 'Zqjane.Doe': 'Doe' },
  CreatedAt: { JaneZqdoe: new Date(0) },
  Screening: { Included: true, jzqdoe42: true },
  Answer: { 'zqdoe.reviewer': 'yes' },
  Prefs: { Theme: { Dark: true }, Secret: { zqdeepmask: 1 } },
};

function run(yaml: string, doc: Record<string, unknown>): Buffer {
  return anonymizeBytes(bson(doc), createAnonymizer(rules(yaml), TEST_KEY).forCollection('c')!);
}

describe('F1: keys below named paths', () => {
  it('gives every key no rule names a keyed pseudonym, under transform, mask, keep and beside named siblings', () => {
    const out = run(YAML, DOC);
    for (const marker of MARKERS) expect(out.includes(marker), marker).toBe(false);
    const decoded = decode(out);
    const pseudonym = /^key-[0-9a-f]{24}$/;
    for (const field of ['FirstName', 'CreatedAt', 'Answer']) expect(Object.keys(decoded[field])).toEqual([expect.stringMatching(pseudonym)]);
    expect(Object.keys(decoded.Screening)).toEqual(['Included', expect.stringMatching(pseudonym)]);
    // keep_subtree keeps its keys; a masked child below it does not.
    expect(decoded.Prefs.Theme).toEqual({ Dark: true });
    expect(Object.keys(decoded.Prefs.Secret)).toEqual([expect.stringMatching(pseudonym)]);
    // Stable: the same key gives the same pseudonym.
    expect(Object.keys(decode(run(YAML, DOC)).Screening)).toEqual(Object.keys(decoded.Screening));
  });

  it('refuses such a key under unnamed_fields: refuse, without printing it, and the check agrees', () => {
    const strict = `version: 2\nunnamed_fields: refuse\n${YAML}`;
    for (const [field, value] of Object.entries(DOC).filter(([k]) => k !== '_id' && k !== 'Prefs')) {
      let error: unknown = null;
      try {
        run(strict, { _id: ID, [field]: value });
      } catch (e) {
        error = e;
      }
      expect(error, field).toBeInstanceOf(UnnamedFieldError);
      const path = (error as UnnamedFieldError).path;
      for (const marker of MARKERS) expect(path).not.toContain(marker);
      const key = Object.keys(value as object).find((k) => k !== 'Included')!;
      expect(decideKeys(rules(strict), rules(strict).collections.get('c')!, [field, key])).toEqual({ index: 1, treatment: 'refuse' });
    }
    expect(decideKeys(rules(strict), rules(strict).collections.get('c')!, ['Screening', 'Included'])).toBeNull();
    expect(decideKeys(rules(strict), rules(strict).collections.get('c')!, ['Prefs', 'Theme', 'Dark'])).toBeNull();
    expect(decideKeys(rules(YAML), rules(YAML).collections.get('c')!, ['Prefs', 'Secret', 'x'])).toEqual({ index: 2, treatment: 'pseudonym' });
  });
});
