import { Binary, Int32 } from 'bson';
import { describe, expect, it } from 'vitest';
import { checkCoverage } from '../../../runtime/anonymize/coverage.js';
import { detectFieldName, detectValue } from '../../../runtime/anonymize/pii.js';
import { previewAnonymization, formatPreviewTable } from '../../../runtime/anonymize/preview.js';
import { TEST_KEY, rules } from './helpers.js';

const RULES = rules(`
rules:
  pmInvestigator:
    fields:
      Email: hash_email
      Profile: { transform: keep, reason: public profile page }
  pmProject:
    default: redact
    fields:
      Name: { transform: keep, reason: research metadata }
      Typo: hash
exclusions: [pmAuditLog]
`);

describe('PII heuristics', () => {
  it.each([
    ['jane@example.org', ['email']],
    ['write to jane@example.org please', ['email']],
    ['auth0|5f3c9e8a1b2c', ['auth-id']],
    ['192.168.10.4', ['ip-address']],
    ['2001:db8::1', ['ip-address']],
    ['+44 131 650 1000', ['phone']],
    ['(555) 123-4567', ['phone']],
    ['2024-01-09', []],
    ['12345678', []],
    ['Randomised trial of aspirin', []],
  ])('%s → %j', (value, kinds) => {
    expect(detectValue(value)).toEqual(kinds);
  });

  it('flags person-name and contact field names', () => {
    expect(detectFieldName('FirstName')).toContain('person-name');
    expect(detectFieldName('last_name')).toContain('person-name');
    expect(detectFieldName('ContactEmail')).toContain('email');
    expect(detectFieldName('MobilePhone')).toContain('phone');
    expect(detectFieldName('Auth0Id')).toContain('auth-id');
    expect(detectFieldName('Title')).toEqual([]);
    expect(detectFieldName('Name')).toEqual([]);
  });
});

describe('checkCoverage', () => {
  const report = checkCoverage(RULES, [
    {
      collection: 'pmInvestigator',
      documents: [
        { _id: new Binary(Buffer.alloc(16), 3), Email: 'a@x.org', FirstName: 'Jane', Profile: { Email: 'pub@x.org' }, Members: [{ Phone: '+44 131 650 1000' }] },
        { Email: 'b@x.org', FirstName: '', Logins: new Int32(3), LastIp: '10.0.0.1' },
      ],
    },
    { collection: 'pmProject', documents: [{ _id: 'p1', Name: 'Owner: jane@x.org', Notes: 'call +44 131 650 1000' }] },
    { collection: 'pmAuditLog', documents: [{ Who: 'jane@x.org' }] },
  ]);

  it('reports PII-looking fields that no rule covers, with path and kind', () => {
    expect(report.findings.map((f) => [f.collection, f.path, f.kinds])).toEqual([
      ['pmInvestigator', 'FirstName', ['person-name']],
      ['pmInvestigator', 'LastIp', ['ip-address']],
      ['pmInvestigator', 'Members[].Phone', ['phone']],
    ]);
    expect(report.findings[0]!.documents).toBe(1); // the empty FirstName is no PII
  });

  it('accepts fields marked keep with their reason, and treats a default transform as coverage', () => {
    expect(report.accepted.map((a) => [a.collection, a.path, a.reason])).toEqual([
      ['pmInvestigator', 'Profile.Email', 'public profile page'],
      ['pmProject', 'Name', 'research metadata'],
    ]);
    expect(report.findings.some((f) => f.collection === 'pmProject')).toBe(false);
  });

  it('skips excluded collections and lists rules that matched nothing', () => {
    expect(report.collections.find((c) => c.collection === 'pmAuditLog')?.excluded).toBe(true);
    expect(report.unmatchedRules).toEqual([{ collection: 'pmProject', path: 'Typo', line: expect.any(Number) }]);
  });

  it('finds an _id holding an email even under a default', () => {
    const r = checkCoverage(rules('rules: { c: { privacy_by_default: true } }'), [{ collection: 'c', documents: [{ _id: 'jane@x.org', Other: 'jane@x.org' }] }]);
    expect(r.findings.map((f) => f.path)).toEqual(['_id']);
  });
});

describe('previewAnonymization', () => {
  it('shows each changed field side by side and what happens to whole collections', () => {
    const preview = previewAnonymization(RULES, TEST_KEY, [
      { collection: 'pmInvestigator', documents: [{ _id: 'i1', Email: 'a@x.org', FirstName: 'Jane' }] },
      { collection: 'pmStudy', documents: [{ _id: 's1' }] },
      { collection: 'pmAuditLog', documents: [{ _id: 'l1' }] },
    ]);
    expect(preview.map((c) => c.treatment)).toEqual(['anonymized', 'copied unchanged', 'excluded']);
    expect(preview[0]!.changes).toEqual([
      { collection: 'pmInvestigator', id: 'i1', path: 'Email', before: 'a@x.org', after: expect.stringMatching(/@anonymized\.syrf\.local$/) },
    ]);
    const table = formatPreviewTable(preview);
    expect(table).toMatch(/Email\s+a@x\.org\s+→ user-/);
  });
});
