import { describe, expect, it } from 'vitest';
import { createAnonymizer } from '../../../runtime/anonymize/engine.js';
import { loadRules } from '../../../runtime/anonymize/rules.js';
import { TEST_KEY, bson } from './helpers.js';

describe('shipped rules: pmInvestigator.Preferences (red team 2, F19)', () => {
  it('keeps the named preferences and masks any other, whatever shape of person data it holds', async () => {
    const rules = await loadRules('rules/anonymization-rules.yaml');
    const anonymizer = createAnonymizer(rules, TEST_KEY).forCollection('pmInvestigator')!;
    const preferences = {
      Theme: 'dark',
      Notifications: true,
      Signature: 'Best, Zqjane Zqsig',
      DisplayLabel: 'Z. Zqlabel',
      LastSearch: 'papers by Zqjane Zqsearch',
      Shown: 'zqjane zqlower',
      Location: 'Zqtown, Midlothian EH26 0PZ',
      Reminder: 'birthday 1987-03-14',
    };
    const out = anonymizer.anonymize(bson({ Preferences: preferences })).toString('latin1');
    expect(out).not.toMatch(/zq|EH26|1987-03-14/i);
    expect(out).toContain('dark');
  });
});
