import { describe, expect, it } from 'vitest';
import { createTransformContext } from '../../../runtime/anonymize/key.js';
import { scrubText } from '../../../runtime/anonymize/scrub.js';
import { TEST_KEY, bson, decode, rules } from './helpers.js';
import { createAnonymizer } from '../../../runtime/anonymize/engine.js';

const context = createTransformContext(TEST_KEY);

describe('names in kept prose', () => {
  it('replaces names the text introduces (honorifics, Name <email>, contact/thanks to/by) with a fake name', () => {
    const cases: [string, string][] = [
      ['Samples were scored blind by Dr. Zqjane Zqdoe at the second site.', 'Zqjane'],
      ['Prof Zqalan Q. Zqturing reviewed the protocol.', 'Zqturing'],
      ['Questions: Zqmary Zqshelley <zqmary@uni.ac.uk>', 'Zqshelley'],
      ['For data access contact Zqada Zqlovelace.', 'Zqlovelace'],
      ['We thank the lab; thanks to Zqrosalind Zqfranklin for the images.', 'Zqfranklin'],
      ['Reviewed by: Ms Zqgrace Zqhopper', 'Zqhopper'],
      ['Corresponding author: Zqmarie Zqcurie', 'Zqcurie'],
    ];
    for (const [text, name] of cases) {
      const out = scrubText(text, context);
      expect(out, text).not.toMatch(new RegExp(name, 'i'));
      expect(out).not.toMatch(/zqmary@/i);
    }
    expect(scrubText('Samples were scored blind by Dr. Zqjane Zqdoe at the second site.', context)).toMatch(/^Samples were scored blind by Dr\. [A-Z][a-z]+ [A-Z][a-z]+ at the second site\.$/);
  });

  it('one person gets one fake name however the text spaces it; prose without a cue is left as it is (the same string)', () => {
    const a = scrubText('contact Zqjane Zqdoe', context);
    const b = scrubText('Dr.  Zqjane   Zqdoe', context);
    expect(a.replace(/^contact /, '')).toBe(b.replace(/^Dr\.\s+/, ''));
    const plain = 'Rats were randomised to treatment or vehicle; infarct volume was measured at 24 h.';
    expect(scrubText(plain, context)).toBe(plain);
  });

  it('applies to strings kept by the engine (keep scrubs by default)', () => {
    const anonymizer = createAnonymizer(rules('rules: { pmStudy: { fields: { Abstract: { transform: keep, reason: research content } } } }'), TEST_KEY).forCollection('pmStudy')!;
    const out = decode(anonymizer.anonymize(bson({ Abstract: 'Data courtesy of Zqjane Zqdoe <zqjane@uni.ac.uk>.' })));
    expect(out.Abstract).not.toMatch(/zqjane|zqdoe/i);
    expect(out.Abstract).toMatch(/^Data courtesy of [A-Z][a-z]+ [A-Z][a-z]+ <user-[0-9a-f]+@anonymized\.syrf\.local>\.$/);
  });
});
