/**
 * Red team 2, F6: disguised addresses in kept free text and kept regular
 * expression patterns are scrubbed; ordinary prose is left alone.
 */
import { BSONRegExp } from 'bson';
import { describe, expect, it } from 'vitest';
import { anonymizeBytes, createAnonymizer } from '../../../runtime/anonymize/engine.js';
import { createTransformContext } from '../../../runtime/anonymize/key.js';
import { scrubText } from '../../../runtime/anonymize/scrub.js';
import { TEST_KEY, bson, decode, rules } from './helpers.js';

const context = createTransformContext(TEST_KEY);
const DISGUISED = [
  'contact jzqe01 @ uni.ac.uk now',
  'jzqe02<at>uni<dot>ac<dot>uk',
  'jzqe03-at-uni-dot-ac-dot-uk',
  'mail jane.jzqe04 at ed.ac.uk please',
  'jzqe05@uni . ac . uk',
  'jzqe06&#064;uni.ac.uk',
  'jzqe07&#x0040;uni.ac.uk',
  'jzqe08&amp;#64;uni.ac.uk',
  'jzqe09@uni\u3002ac\u3002uk',
];

describe('F6: disguised addresses in kept text', () => {
  it.each(DISGUISED)('scrubs %s', (text) => {
    const out = scrubText(text, context);
    expect(out).not.toMatch(/jzqe\d\d/);
    expect(out).toMatch(/@anonymized\.syrf\.local/);
  });

  it('leaves prose alone', () => {
    for (const text of ['available at doi.org today', 'End. Next sentence . Done', 'state-of-the-art at 5 pm', 'email me @ noon'])
      expect(scrubText(text, context)).toBe(text);
  });

  it('finishes on multi-megabyte hostile strings built from the new disguises', () => {
    for (const unit of [' @ ', '-at-', ' . ', '&amp;#64;', 'a.b1 at ', '<at>x', '\u3002a']) {
      const text = unit.repeat(Math.ceil(2_000_000 / unit.length));
      expect(typeof scrubText(text, context)).toBe('string');
    }
  }, 120_000);

  it('scrubs a kept regular expression pattern, keeping its flags', () => {
    const yaml = 'rules:\n  c:\n    fields:\n      Prefs: { transform: keep_subtree, reason: UI settings }\n';
    const out = anonymizeBytes(bson({ Prefs: { Filter: new BSONRegExp('jzqe20@uni\\.ac\\.uk', 'i') } }), createAnonymizer(rules(yaml), TEST_KEY).forCollection('c')!);
    expect(out.includes('jzqe20')).toBe(false);
    const filter = decode(out).Prefs.Filter as BSONRegExp;
    expect(filter.options).toBe('i');
    expect(filter.pattern).toMatch(/@anonymized\.syrf\.local/);
  });
});
