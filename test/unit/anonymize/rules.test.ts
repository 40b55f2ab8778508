import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExitCode, UserError } from '../../../runtime/errors.js';
import { isExcluded, knownCollections, loadRules, parseRules, rulesSha256 } from '../../../runtime/anonymize/rules.js';
import { repoRoot } from '../../support/cli.js';

const RULES_PATH = join(repoRoot, 'rules', 'anonymization-rules.yaml');

function errorOf(yaml: string): UserError {
  try {
    parseRules(yaml, 'bad.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).exitCode).toBe(ExitCode.usage);
    return error as UserError;
  }
  throw new Error('expected the rules to be rejected');
}

describe('the shipped rules file', () => {
  it('validates and carries the mapping the issue asks for', async () => {
    const rules = await loadRules(RULES_PATH);
    const investigator = rules.collections.get('pmInvestigator')!;
    const byPath = Object.fromEntries(investigator.fields.map((f) => [f.path, f.transform]));
    expect(byPath).toMatchObject({ Email: 'hash_email', FirstName: 'sequential', LastName: 'sequential_suffix', Auth0Id: 'hash' });
    expect(rules.collections.get('pmProject')!.fields.find((f) => f.path === 'ContactEmail')?.transform).toBe('hash_email');
    for (const name of ['asFileListing', 'pmAuditLog', 'system.sessions']) expect(isExcluded(rules, name)).toBe(true);
    expect(rules.sizeLimits.get('pmProject')?.maxDocuments).toBe(100);
    expect(rules.sizeLimits.get('pmStudy')).toMatchObject({ maxDocuments: 10000, follows: { collection: 'pmProject', field: 'ProjectId', references: '_id' } });
    expect(knownCollections(rules)).toEqual(expect.arrayContaining(['pmInvestigator', 'pmProject', 'pmStudy', 'pmSystematicSearch', 'pmRiskOfBiasAiJob']));
    expect(knownCollections(rules)).not.toContain('pmAuditLog');
  });

  it('has a sha256 that changes with any edit', () => {
    const text = readFileSync(RULES_PATH, 'utf8');
    expect(rulesSha256(text)).toMatch(/^[0-9a-f]{64}$/);
    expect(rulesSha256(text + '\n')).not.toBe(rulesSha256(text));
  });
});

describe('rules validation', () => {
  it('names file, line, key path and the allowed transforms for an unknown transform', () => {
    const error = errorOf(['rules:', '  pmInvestigator:', '    fields:', '      Email:', '        transform: hash_mail'].join('\n'));
    expect(error.message).toContain('bad.yaml:5');
    expect(error.message).toContain('rules.pmInvestigator.fields.Email.transform');
    expect(error.message).toContain('unknown transform "hash_mail"');
    expect(error.message).toMatch(/allowed: .*hash_email/);
  });

  it('rejects unknown keys at every level, listing what is allowed', () => {
    const error = errorOf(['rules:', '  pmProject:', '    feilds:', '      ContactEmail: hash_email', 'exclusion:', '  - a'].join('\n'));
    expect(error.message).toContain('bad.yaml:3: rules.pmProject.feilds: unknown key "feilds"; allowed keys: fields, default, privacy_by_default');
    expect(error.message).toContain('bad.yaml:5: exclusion: unknown key "exclusion"');
  });

  it('rejects unknown transform parameters and wrong parameter types', () => {
    const error = errorOf(
      ['rules:', '  c:', '    fields:', '      A: { transform: hash, lenght: 20 }', '      B:', '        transform: hash', '        length: "20"'].join('\n'),
    );
    expect(error.message).toContain('bad.yaml:4: rules.c.fields.A.lenght: unknown parameter "lenght" for transform "hash"; allowed: transform, length, prefix');
    expect(error.message).toMatch(/bad\.yaml:7: rules\.c\.fields\.B\.length: transform "hash": expected number/);
  });

  it('requires a reason for keep', () => {
    const error = errorOf(['rules:', '  c:', '    fields:', '      Name: keep'].join('\n'));
    expect(error.message).toContain('bad.yaml:4: rules.c.fields.Name.reason');
    expect(error.message).toContain('required');
  });

  it('rejects wrong types with the line of the value', () => {
    const error = errorOf(['exclusions:', '  - pmAuditLog', '  - 42', 'size_limits:', '  pmProject:', '    max_documents: -3'].join('\n'));
    expect(error.message).toContain('bad.yaml:3: exclusions[1]: expected string, received number');
    expect(error.message).toMatch(/bad\.yaml:6: size_limits\.pmProject\.max_documents: .*>0/);
  });

  it('rejects malformed field paths, overlapping rules and contradictory defaults', () => {
    const error = errorOf(
      [
        'rules:',
        '  c:',
        '    privacy_by_default: true',
        '    default: redact',
        '    fields:',
        '      "Contact..Email": hash_email',
        '      Contact: redact',
        '      Contact.Phone: hash',
      ].join('\n'),
    );
    expect(error.message).toContain('bad.yaml:6: rules.c.fields["Contact..Email"]: "Contact..Email" is not a field path');
    expect(error.message).toContain('bad.yaml:8: rules.c.fields["Contact.Phone"]: "Contact.Phone" is inside "Contact"');
    expect(error.message).toContain('bad.yaml:3: rules.c.privacy_by_default: give either `default` or `privacy_by_default: true`');
  });

  it('lets a keep rule be refined by rules below it', () => {
    const rules = parseRules(['rules:', '  c:', '    fields:', '      Contact: { transform: keep, reason: office address }', '      Contact.Email: hash_email'].join('\n'), 'ok.yaml');
    expect(rules.collections.get('c')!.fields).toHaveLength(2);
  });

  it('rejects follows cycles, self-follows and rules for excluded collections', () => {
    const error = errorOf(
      [
        'rules:',
        '  pmAuditLog:',
        '    fields: { Email: hash_email }',
        'exclusions: [pmAuditLog]',
        'size_limits:',
        '  a: { follows: { collection: b, field: B } }',
        '  b: { follows: { collection: a, field: A } }',
        '  c:',
        '    follows: { collection: c, field: C }',
      ].join('\n'),
    );
    expect(error.message).toContain('bad.yaml:2: rules.pmAuditLog: collection "pmAuditLog" is excluded');
    expect(error.message).toContain('bad.yaml:6: size_limits.a.follows: follows form a cycle: a → b → a');
    expect(error.message).toContain('bad.yaml:9: size_limits.c.follows.collection: a collection cannot follow itself');
  });

  it('reports YAML syntax errors with their line', () => {
    const error = errorOf(['rules:', '  c:', '    fields:', '      A: [unclosed'].join('\n'));
    expect(error.message).toMatch(/^bad\.yaml:\d+: not valid YAML/);
  });

  it('accepts a collection whose fields are all comments, shorthand transforms and array paths', () => {
    const rules = parseRules(
      [
        'rules:',
        '  pmStudy:',
        '    fields:',
        '      # nothing yet',
        '  pmProject:',
        '    fields:',
        '      Members[].Email: hash_email',
        '      Tags[]: redact',
        'exclusions: [logs*]',
      ].join('\n'),
      'ok.yaml',
    );
    expect(rules.collections.get('pmStudy')!.fields).toEqual([]);
    expect(rules.collections.get('pmProject')!.fields.map((f) => f.normalized)).toEqual(['Members.Email', 'Tags']);
    expect(isExcluded(rules, 'logs2024')).toBe(true);
    expect(isExcluded(rules, 'system.views')).toBe(true);
    expect(isExcluded(rules, 'pmProject')).toBe(false);
  });

  it('refuses an empty file', () => {
    expect(errorOf('# only comments\n').message).toContain('bad.yaml:1: the rules file is empty');
  });
});

describe('format v2: the allow-list', () => {
  it('reads unnamed_fields and unnamed_collections, defaulting to mask and refuse (also for version 1)', () => {
    const v2 = parseRules('version: 2\nunnamed_fields: refuse\nunnamed_collections: drop\nrules: { c: {} }', 'v2.yaml');
    expect(v2).toMatchObject({ version: 2, unnamedFields: 'refuse', unnamedCollections: 'drop' });
    const v1 = parseRules('version: 1\nrules: { c: { privacy_by_default: true } }', 'v1.yaml');
    expect(v1).toMatchObject({ version: 1, unnamedFields: 'mask', unnamedCollections: 'refuse' });
    expect(errorOf('version: 2\nunnamed_fields: pass').message).toContain('unnamed_fields');
  });

  it('parses keep_subtree, scrub and keys, and literal names written with escapes', () => {
    const rules = parseRules(
      ['version: 2', 'rules:', '  c:', '    fields:', '      Settings: { transform: keep_subtree, reason: UI prefs }', '      Abstract: { transform: keep, reason: research, scrub: false }', '      Subs: { transform: mask, keys: hash }', '      "Contact\\\\.Email": hash_email', '      "A\\\\[\\\\]\\\\\\\\\\\\$": hash'].join('\n'),
      'v2.yaml',
    );
    const fields = Object.fromEntries(rules.collections.get('c')!.fields.map((f) => [f.path, f]));
    expect(fields.Settings).toMatchObject({ keepsValue: true, keepsSubtree: true, scrub: true });
    expect(fields.Abstract).toMatchObject({ keepsValue: true, keepsSubtree: false, scrub: false });
    expect(fields.Subs).toMatchObject({ keys: 'hash', scrub: false });
    expect(fields['Contact\\.Email']!.segments).toEqual([{ name: 'Contact.Email', arrayDepth: 0 }]);
    expect(fields['A\\[\\]\\\\\\$']!.segments).toEqual([{ name: 'A[]\\$', arrayDepth: 0 }]);
  });

  it('refuses widths and transforms that would merge people (re-identification)', () => {
    expect(errorOf('rules: { c: { fields: { LastName: { transform: sequential_suffix, digits: 4 } } } }').message).toContain('at least 15');
    expect(errorOf('rules: { c: { fields: { Email: sequential } } }').message).toContain('use hash_email');
    expect(errorOf('rules: { c: { fields: { "Members[].ContactEmail": fake_name } } }').message).toContain('use hash_email');
    expect(errorOf('rules: { c: { fields: { Settings: { transform: keep_subtree } } } }').message).toContain('reason');
  });

  it('names time-series buckets like collections, and excludes them with their collection', () => {
    const rules = parseRules('rules: { system.buckets.metrics: { default: { transform: keep_subtree, reason: sensor data } } }\nexclusions: [audit]', 'ts.yaml');
    expect(isExcluded(rules, 'system.buckets.metrics')).toBe(false);
    expect(isExcluded(rules, 'system.buckets.audit')).toBe(true);
    expect(isExcluded(rules, 'system.views')).toBe(true);
  });
});
