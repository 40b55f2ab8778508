import { Binary, Code, type Document } from 'bson';
import { describe, expect, it } from 'vitest';
import { checkedEvents } from '../../../runtime/anonymize/check-stage.js';
import { checkCoverage, refuseOnFindings, type CoverageReport } from '../../../runtime/anonymize/coverage.js';
import { detectFieldName, detectValue, findPiiSpans, looksLikePiiKey } from '../../../runtime/anonymize/pii.js';
import { previewAnonymization, formatPreviewTable } from '../../../runtime/anonymize/preview.js';
import { buildSkeleton } from '../../../runtime/anonymize/rules-init.js';
import { UserError } from '../../../runtime/errors.js';
import { TEST_KEY, bson, collect, eof, fromArray, prelude, rules, segment } from './helpers.js';

const RULES = rules(`
version: 2
rules:
  pmInvestigator:
    fields:
      Email: hash_email
      _t: { transform: keep, reason: C# type discriminator }
      Profile: { transform: keep_subtree, reason: public profile page }
      Profile.Orcid: { transform: keep, reason: public ORCID on purpose }
      Avatar: { transform: keep, reason: picture bytes }
  pmProject:
    fields:
      Name: { transform: keep, reason: research metadata }
      Typo: hash
exclusions: [pmAuditLog]
`);

/** One document holding the elements of `a` then those of `b`, duplicate names included. */
function duplicateKeys(a: Document, b: Document): Buffer {
  const body = Buffer.concat([bson(a).subarray(4, -1), bson(b).subarray(4, -1)]);
  const out = Buffer.alloc(body.length + 5);
  out.writeInt32LE(out.length, 0);
  body.copy(out, 4);
  return out;
}

function sample(collection: string, documents: Document[]) {
  return { collection, documents: documents.map(bson) };
}

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
    // Blind spots of the old detector:
    ['https://orcid.org/0000-0002-1825-0097', ['orcid']],
    ['jane.doe%40uni.ac.uk', ['encoded-email']],
    ['jane%2Edoe%40uni%2Eac%2Euk', ['encoded-email']],
    [Buffer.from('jane.doe@uni.ac.uk').toString('base64'), ['encoded-email']],
    ['token-' + Buffer.from('{"u":"jane.doe@uni.ac.uk"}').toString('base64url'), ['encoded-email']],
    ['Rats were housed in pairs. Contact: Jane (jane.doe@uni.ac.uk, +44 131 650 9999).', ['email', 'phone']],
    ['doi:10.1016/j.jneumeth.2020.01.001', []],
  ])('%s → %j', (value, kinds) => {
    expect(detectValue(value)).toEqual(kinds);
  });

  it('flags names in fields that are not called *Name', () => {
    for (const name of ['CreatedBy', 'ReviewerName', 'Name', 'Annotator', 'created_by', 'FirstName', 'last_name', 'Surname']) {
      expect(detectFieldName(name), name).toContain('person-name');
    }
    expect(detectFieldName('ContactEmail')).toContain('email');
    expect(detectFieldName('MobilePhone')).toContain('phone');
    expect(detectFieldName('Auth0Id')).toContain('auth-id');
    expect(detectFieldName('OrcidId')).toContain('orcid');
    expect(detectFieldName('Title')).toEqual([]);
    expect(detectFieldName('FileName')).toEqual([]);
    expect(detectFieldName('ProjectName')).toEqual([]);
  });

  it('spans cover the whole finding inside free text', () => {
    const text = 'Ask jane.doe@uni.ac.uk or ring 0131 650 1000.';
    expect(findPiiSpans(text).map((s) => text.slice(s.start, s.end))).toEqual(['jane.doe@uni.ac.uk', '0131 650 1000']);
  });

  it('keys that are personal data', () => {
    expect(looksLikePiiKey('alice@uni.ac.uk')).toBe(true);
    expect(looksLikePiiKey('Jane Doe')).toBe(true);
    expect(looksLikePiiKey('Settings')).toBe(false);
  });

  it('finishes on multi-megabyte hostile strings (linear time, no backtracking blow-up)', () => {
    const hostile = [
      'a'.repeat(4_000_000), // the old email pattern never finished on this
      'a.'.repeat(2_000_000),
      'a@'.repeat(2_000_000),
      '%40a'.repeat(1_000_000),
      '@a.'.repeat(1_300_000),
      '1 '.repeat(2_000_000),
      '+1-'.repeat(1_300_000),
      'auth0|'.repeat(600_000),
      '0000-'.repeat(800_000),
      'x'.repeat(80_000),
    ];
    for (const text of hostile) {
      expect(Array.isArray(detectValue(text))).toBe(true);
      expect(Array.isArray(findPiiSpans(text))).toBe(true);
      expect(looksLikePiiKey(text)).toBe(true); // a multi-MB key is data, not a field name
    }
  }, 120_000);
});

describe('coverage check (allow-list)', () => {
  const report = checkCoverage(RULES, [
    sample('pmInvestigator', [
      {
        _id: new Binary(Buffer.alloc(16), 3),
        _t: 'Investigator',
        Email: 'a@x.org',
        FirstName: 'Jane',
        Profile: { Bio: 'I study stroke', Orcid: '0000-0002-1825-0097', CreatedBy: 'Jane Doe', Subscriptions: { 'jane.doe@uni.ac.uk': true } },
        Avatar: new Binary(Buffer.from('jane.doe@uni.ac.uk, 34 bytes long!'), 4),
      },
    ]),
    sample('pmProject', [{ _id: 'p1', Name: 'Stroke meta-analysis' }]),
    sample('pmAuditLog', [{ Who: 'jane@x.org' }]),
    sample('pmNewThing', [{ _id: 1, Secret: 'x' }]),
  ]);
  const problems = (r: CoverageReport) => r.findings.map((f) => [f.collection, f.path, f.problem]);

  it('refuses collections no rule names, kept binaries carrying PII, PII-named fields kept only by keep_subtree, and rules that match nothing', () => {
    // Names no rule contains come from the data: reports number them instead of printing them.
    expect(problems(report)).toEqual([
      ['<unnamed collection #1>', '', 'unnamed-collection'],
      ['pmInvestigator', 'Avatar', 'kept-pii-value'],
      ['pmInvestigator', 'Profile.<unnamed key #2>', 'unreviewed-pii-field'],
      ['pmProject', 'Typo', 'unmatched-rule'],
    ]);
  });

  it('accepts explicit keeps with their reason and lists what keep_subtree keeps', () => {
    expect(report.accepted.map((a) => [a.path, a.reason])).toContainEqual(['Profile.Orcid', 'public ORCID on purpose']);
    expect(report.keptBySubtree.map((k) => k.path)).toEqual(['Profile.<unnamed key #1>', 'Profile.<unnamed key #2>', 'Profile.<unnamed key #3>.<unnamed key #4>']);
    const shown = checkCoverage(RULES, [sample('pmInvestigator', [{ Profile: { Bio: 'x', Subscriptions: { 'jane.doe@uni.ac.uk': true } } }])], { showUnnamedNames: true });
    expect(shown.keptBySubtree.map((k) => k.path)).toEqual(['Profile.Bio', 'Profile.Subscriptions.<redacted>']);
  });

  it('never puts a value in the report or the refusal, and redacts path segments that are personal data', () => {
    const text = JSON.stringify(report);
    for (const value of ['jane.doe@uni.ac.uk', 'Jane Doe', '0000-0002-1825-0097', 'a@x.org', 'jane@x.org']) expect(text).not.toContain(value);
    let message = '';
    try {
      refuseOnFindings(report, 'rules.yaml');
    } catch (error) {
      expect(error).toBeInstanceOf(UserError);
      message = (error as UserError).message + String((error as UserError).hint);
    }
    expect(message).toMatch(/<unnamed collection #1>: no rule names this collection/);
    expect(message).not.toContain('pmNewThing');
    expect(message).not.toMatch(/jane/i);
  });

  it('refuses a leaf no rule names under unnamed_fields: refuse, naming collection and path only', () => {
    const strict = rules('version: 2\nunnamed_fields: refuse\nrules:\n  c:\n    fields:\n      A: hash\n');
    const r = checkCoverage(strict, [sample('c', [{ A: 'x', 'jane@x.org': { Deep: 'y' } }])]);
    expect(problems(r)).toEqual([['c', '<unnamed key #1>.<unnamed key #2>', 'refused-field']]);
  });

  it('prints no key or collection name the rules do not contain, whatever a detector thinks of it (red-team #2, #8)', () => {
    const markers = ['Jane_Shipkey', 'JaneDoe', 'jdoe42', 'Doe, Jane', 'jane at uni dot ac dot uk', 'Jane Doe (Edinburgh)', 'export_janecoll', 'Jane Errdoe notes'];
    const strict = rules('version: 2\nunnamed_fields: refuse\nrules:\n  c:\n    fields:\n      A: hash\n');
    const r = checkCoverage(strict, [
      sample('c', [{ A: 'x', Tags: Object.fromEntries(markers.slice(0, 6).map((m) => [m, 1])) }]),
      sample('export_janecoll', [{ _id: 1 }]),
      sample('Jane Errdoe notes', [{ _id: 1 }]),
    ]);
    let message = '';
    try {
      refuseOnFindings(r, 'rules.yaml');
    } catch (error) {
      message = (error as UserError).message + String((error as UserError).hint);
    }
    expect(r.findings.length).toBeGreaterThan(0);
    for (const text of [JSON.stringify(r), message]) for (const m of markers) expect(text).not.toContain(m);
  });

  it('reads every element: duplicate keys, Code and literal dotted names', () => {
    const kept = rules("version: 2\nrules:\n  c:\n    fields:\n      Notes: { transform: keep, reason: free text }\n      'Contact\\.Email': { transform: keep, reason: wrongly kept }\n      Js: { transform: keep, reason: code }\n");
    const r = checkCoverage(kept, [sample('c', [{ _id: 1, Notes: 'fine', 'Contact.Email': 'jane.doe@uni.ac.uk', Js: new Code('send("jane.doe@uni.ac.uk")') }])]);
    // The kept string is scrubbed by the engine; Code is not a string, so it is refused.
    expect(problems(r)).toEqual([['c', 'Js', 'kept-pii-value']]);
    // {Notes: "fine", Notes: <code holding an email>}: a decoder keeps only one of the two; the check reads both.
    const dup = duplicateKeys({ Notes: 'fine' }, { Notes: new Code('send("jane.doe@uni.ac.uk")') });
    const d = checkCoverage(kept, [{ collection: 'c', documents: [dup] }], { strict: false });
    expect(problems(d)).toEqual([['c', 'Notes', 'kept-pii-value']]);
    expect(r.accepted.map((a) => [a.path, a.scrubbed])).toContainEqual(['Contact\\.Email', true]);
  });

  it('as a pipeline stage: passes events through, then refuses at the end of the input; reads every document by default', async () => {
    const docs = Array.from({ length: 10_000 }, (_, i) => ({ _id: i, A: 'x', ...(i === 9_999 ? { Avatar: new Binary(Buffer.from('jane.doe@uni.ac.uk'), 0) } : {}) }));
    const r = rules('version: 2\nrules:\n  c:\n    fields:\n      A: hash\n      Avatar: { transform: keep, reason: image }\n');
    const events = [prelude('c'), segment('c', docs), eof('c')];
    await expect(collect(checkedEvents(fromArray(events), r))).rejects.toThrow(/c\.Avatar: kept value looks like personal data \(email\)/);
    // A rule for a field absent from the data is refused in strict mode and a warning otherwise.
    const typo = rules('version: 2\nrules:\n  c:\n    fields:\n      A: hash\n      Emial: hash_email\n');
    const plain = [prelude('c'), segment('c', [{ _id: 1, A: 'x' }]), eof('c')];
    await expect(collect(checkedEvents(fromArray(plain), typo))).rejects.toThrow(/c\.Emial: rule matches no document/);
    expect(await collect(checkedEvents(fromArray(plain), typo, { strict: false }))).toHaveLength(3);
  });

  it('a typo in a collection name is refused in strict mode', async () => {
    const r = rules('version: 2\nrules:\n  pmProjet:\n    fields:\n      A: hash\n  pmProject:\n    fields:\n      A: hash\n');
    await expect(collect(checkedEvents(fromArray([prelude('pmProject'), segment('pmProject', [{ _id: 1, A: 'x' }]), eof('pmProject')]), r))).rejects.toThrow(
      /pmProjet: rules name a collection that is not in the data/,
    );
  });
});

describe('previewAnonymization', () => {
  it('shows each changed field side by side and what happens to whole collections', () => {
    const preview = previewAnonymization(RULES, TEST_KEY, [
      { ...sample('pmInvestigator', [{ _id: 'i1', _t: 'I', Email: 'a@x.org' }]), type: '', total: 1 },
      { ...sample('pmStudy', [{ _id: 's1' }]), type: '', total: 1 },
      { ...sample('pmAuditLog', [{ _id: 'l1' }]), type: '', total: 1 },
    ]);
    expect(preview.map((c) => c.treatment)).toEqual(['anonymized', 'refused (no rule names it)', 'excluded']);
    expect(preview[0]!.changes).toContainEqual(
      { collection: 'pmInvestigator', id: 'i1', path: 'Email', before: 'a@x.org', after: expect.stringMatching(/@anonymized\.syrf\.local$/) },
    );
    expect(formatPreviewTable(preview)).toMatch(/Email\s+a@x\.org\s+→ user-/);
  });
});

describe('red-team #4 and #2: value shapes under keep_subtree, and rules init', () => {
  const subtree = rules('version: 2\nrules:\n  pmStudy:\n    default: { transform: keep_subtree, reason: bibliographic research content }\n');

  it('flags names and handles kept by keep_subtree under innocent field names, not research titles', () => {
    const r = checkCoverage(subtree, [
      sample('pmStudy', [
        { _id: 1, Title: 'Neuroprotective Effects of Hypothermia in Rat Stroke Models', Keywords: ['Middle Cerebral Artery'], Species: 'Sprague Dawley', Who: 'Jane Shipwho Doe', Login: 'jshipdoe42', Extra: { Handle: 'Dr Jane Doe' } },
      ]),
    ]);
    const flagged = r.findings.filter((f) => f.problem === 'unreviewed-pii-field').map((f) => f.kinds.join(','));
    expect(flagged.sort()).toEqual(['handle', 'person-name', 'person-name']);
    expect(JSON.stringify(r)).not.toMatch(/Jane|jshipdoe/);
  });

  it('rules init writes no data key into the skeleton and never proposes keep for PII-shaped keys or values', () => {
    const keys = ['Jane_Shipkey', 'jdoe42', 'Doe, Jane', 'janeshipkey@universität.de', 'Jane Doe (Edinburgh)'];
    const skeleton = buildSkeleton(
      [{ collection: 'pmInvestigator', type: '', total: 1, documents: [bson({ _id: 1, Tags: Object.fromEntries(keys.map((k) => [k, 1])), Who: 'Jane Shipwho Doe', Login: 'jshipdoe42', Theme: 'dark' })] }],
      'test',
    );
    for (const marker of [...keys, 'Shipwho', 'jshipdoe42']) expect(skeleton).not.toContain(marker);
    expect(skeleton).toMatch(/Tags: \{ transform: mask, keys: hash \}.*5 distinct keys seen, not shown/);
    expect(skeleton).not.toMatch(/Who: \{ transform: keep/);
    expect(skeleton).not.toMatch(/Login: \{ transform: keep/);
  });
});
