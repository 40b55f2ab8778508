import { describe, expect, it } from 'vitest';
import { UserError } from '../../../runtime/errors.js';
import { parsePreviewConfig, type ParsePreviewConfigOptions, parsePreviewConfigWithLookup } from '../../../runtime/preview-config/parse.js';

const known: ParsePreviewConfigOptions = { knownCollections: ['pmInvestigator', 'pmProject', 'pmStudy'] };

/** A PR description with `block` (lines joined by `eol`) after some prose. */
function prBody(block: string[], eol = '\n', fence = '```yaml'): string {
  return ['## What and why', '', 'Fixes the export.', '', fence, ...block, fence.replace(/[a-z]+$/, ''), '', 'Thanks!'].join(eol);
}

function errorOf(run: () => unknown): UserError {
  try {
    run();
  } catch (error) {
    if (error instanceof UserError) return error;
    throw error;
  }
  throw new Error('expected a UserError');
}

describe('parsePreviewConfig: the block shapes PR authors write', () => {
  it('reads the snapshot policy with a collection subset', () => {
    const body = prBody([
      '#preview-config',
      'database:',
      '  source: snapshot',
      '  snapshotId: latest # or specific: "2026-01-09-daily"',
      '  anonymize: true    # Required for non-production (enforced)',
      '  collections:       # Optional: subset of collections',
      '    - pmProject',
      '    - pmStudy',
    ]);
    expect(parsePreviewConfig(body, known)).toEqual({
      source: 'snapshot',
      snapshotId: 'latest',
      anonymize: true,
      collections: ['pmProject', 'pmStudy'],
      passthrough: {},
      blockLine: 5,
    });
  });

  it('accepts a dated snapshot id with a suffix, unquoted', () => {
    const body = prBody(['#preview-config', 'database:', '  source: snapshot', '  snapshotId: 2026-01-09-daily']);
    expect(parsePreviewConfig(body, known).snapshotId).toBe('2026-01-09-daily');
  });

  it('keeps an unquoted date as the id text, not a Date', () => {
    const body = prBody(['#preview-config', 'database:', '  source: snapshot', '  snapshotId: 2026-01-09']);
    expect(parsePreviewConfig(body, known).snapshotId).toBe('2026-01-09');
  });

  it('defaults snapshotId to latest and collections to all for source: snapshot', () => {
    const config = parsePreviewConfig(prBody(['#preview-config', 'database:', '  source: snapshot']), known);
    expect(config).toMatchObject({ source: 'snapshot', snapshotId: 'latest', anonymize: true, collections: [] });
  });

  it('reads the staging policy', () => {
    const config = parsePreviewConfig(prBody(['#preview-config', 'database:', '  source: staging']), known);
    expect(config).toMatchObject({ source: 'staging', snapshotId: null, collections: [] });
  });
});

describe('parsePreviewConfig: defaults', () => {
  it('uses seed when the description has no config block', () => {
    expect(parsePreviewConfig('Just a fix.\n\n```ts\nconst a = 1;\n```\n', known)).toEqual({
      source: 'seed',
      snapshotId: null,
      anonymize: true,
      collections: [],
      passthrough: {},
      blockLine: null,
    });
  });

  it('uses seed for an empty description', () => {
    expect(parsePreviewConfig('', known).source).toBe('seed');
  });

  it('uses seed when the block has no database key, and passes the rest through', () => {
    const config = parsePreviewConfig(prBody(['#preview-config', 'web:', '  featureFlags:', '    experimentalFeature: true']), known);
    expect(config.source).toBe('seed');
    expect(config.passthrough).toEqual({ web: { featureFlags: { experimentalFeature: true } } });
  });

  it('uses seed when database has no source', () => {
    expect(parsePreviewConfig(prBody(['#preview-config', 'database:', '  anonymize: true']), known).source).toBe('seed');
  });

  it('ignores a config block inside an HTML comment', () => {
    const body = ['<!--', '```yaml', '#preview-config', 'database:', '  source: snapshot', '```', '-->'].join('\n');
    expect(parsePreviewConfig(body, known).source).toBe('seed');
  });

  it('ignores code blocks whose first line is not #preview-config', () => {
    const body = ['```yaml', 'database:', '  source: snapshot', '```'].join('\n');
    expect(parsePreviewConfig(body, known).source).toBe('seed');
  });
});

describe('parsePreviewConfig: block syntax', () => {
  it('reads CRLF descriptions with the same result and line numbers as LF', () => {
    const block = ['#preview-config', 'database:', '  source: snapshot', '  collections:', '    - pmStudy'];
    const lf = parsePreviewConfig(prBody(block, '\n'), known);
    const crlf = parsePreviewConfig(prBody(block, '\r\n'), known);
    expect(crlf).toEqual(lf);
    expect(crlf.collections).toEqual(['pmStudy']);

    const bad = ['#preview-config', 'database:', '  source: snapshot', '  anonymize: false'];
    expect(errorOf(() => parsePreviewConfig(prBody(bad, '\r\n'), known)).message).toContain('PR description line 9: "  anonymize: false"');
  });

  it.each([['```yml'], ['```'], ['~~~'], ['~~~yaml'], ['````yaml']])('finds the block in a %s fence', (fence) => {
    const body = prBody(['#preview-config', 'database:', '  source: staging'], '\n', fence);
    expect(parsePreviewConfig(body, known).source).toBe('staging');
  });

  it('finds a block indented under a list item', () => {
    const body = ['- Preview data:', '  ```yaml', '  #preview-config', '  database:', '    source: staging', '  ```'].join('\n');
    expect(parsePreviewConfig(body, known).source).toBe('staging');
  });

  it('allows blank lines before the #preview-config marker', () => {
    expect(parsePreviewConfig(prBody(['', '#preview-config', 'database:', '  source: staging']), known).source).toBe('staging');
  });

  it('passes web.featureFlags through untouched next to database', () => {
    const body = prBody([
      '#preview-config',
      'database:',
      '  source: snapshot',
      'web:',
      '  featureFlags:',
      '    experimentalFeature: true',
      '    newExport: "v2"',
      '    rollout: 0.25',
    ]);
    expect(parsePreviewConfig(body, known).passthrough).toEqual({
      web: { featureFlags: { experimentalFeature: true, newExport: 'v2', rollout: 0.25 } },
    });
  });
});

describe('parsePreviewConfig: refusals quote the offending line', () => {
  // Lines 1-4 are prose, 5 is the fence, 6 the marker, 7 `database:`.
  const cases: Array<{ name: string; block: string[]; line: number; text: string; says: RegExp }> = [
    {
      name: 'anonymize: false',
      block: ['#preview-config', 'database:', '  source: snapshot', '  anonymize: false'],
      line: 9,
      text: '  anonymize: false',
      says: /anonymize: false is not allowed: preview databases are not production/,
    },
    {
      name: 'anonymize: false even for seed',
      block: ['#preview-config', 'database:', '  anonymize: false'],
      line: 8,
      text: '  anonymize: false',
      says: /anonymize: false is not allowed/,
    },
    {
      name: 'an unknown source',
      block: ['#preview-config', 'database:', '  source: production'],
      line: 8,
      text: '  source: production',
      says: /source must be one of seed, snapshot, staging, not "production"/,
    },
    {
      name: 'an unknown key under database',
      block: ['#preview-config', 'database:', '  source: snapshot', '  snapshotID: latest'],
      line: 9,
      text: '  snapshotID: latest',
      says: /unknown key "snapshotID" under database; allowed keys: source, snapshotId, anonymize, collections/,
    },
    {
      name: 'a malformed snapshot id',
      block: ['#preview-config', 'database:', '  source: snapshot', '  snapshotId: yesterday'],
      line: 9,
      text: '  snapshotId: yesterday',
      says: /snapshotId must be "latest" or a snapshot id such as 2026-01-09/,
    },
    {
      name: 'a collection the rules do not know',
      block: ['#preview-config', 'database:', '  source: snapshot', '  collections:', '    - pmProject', '    - pmAuditLog'],
      line: 11,
      text: '    - pmAuditLog',
      says: /collection "pmAuditLog" is not one the anonymization rules know; known collections: pmInvestigator, pmProject, pmStudy/,
    },
    {
      name: 'anonymize given as text',
      block: ['#preview-config', 'database:', '  anonymize: "yes"'],
      line: 8,
      text: '  anonymize: "yes"',
      says: /anonymize must be true or false/,
    },
    {
      name: 'collections as a single name',
      block: ['#preview-config', 'database:', '  source: snapshot', '  collections: pmStudy'],
      line: 9,
      text: '  collections: pmStudy',
      says: /collections must be a list of collection names/,
    },
    {
      name: 'snapshotId with source: seed',
      block: ['#preview-config', 'database:', '  snapshotId: latest'],
      line: 8,
      text: '  snapshotId: latest',
      says: /snapshotId applies only to source: snapshot, but source is seed \(the default\)/,
    },
    {
      name: 'collections with source: staging',
      block: ['#preview-config', 'database:', '  source: staging', '  collections: [pmStudy]'],
      line: 9,
      text: '  collections: [pmStudy]',
      says: /collections applies only to source: snapshot/,
    },
    {
      name: 'a misspelt database key',
      block: ['#preview-config', 'databse:', '  source: snapshot'],
      line: 7,
      text: 'databse:',
      says: /"databse" looks like a misspelling of "database"/,
    },
    {
      name: 'database that is not a mapping',
      block: ['#preview-config', 'database: snapshot'],
      line: 7,
      text: 'database: snapshot',
      says: /database must be a mapping/,
    },
    {
      name: 'bad YAML',
      block: ['#preview-config', 'database:', '  source: snapshot', '   collections: [pmStudy'],
      line: 9,
      text: '   collections: [pmStudy',
      says: /not valid YAML/,
    },
    {
      name: 'a duplicated key',
      block: ['#preview-config', 'database:', '  source: snapshot', '  source: staging'],
      line: 9,
      text: '  source: staging',
      says: /not valid YAML: duplicated mapping key/,
    },
    {
      name: 'a list as the root',
      block: ['#preview-config', '- database'],
      line: 7,
      text: '- database',
      says: /must be a mapping \(database:, web:, \.\.\.\), not a list/,
    },
  ];

  it.each(cases)('$name', ({ block, line, text, says }) => {
    const error = errorOf(() => parsePreviewConfig(prBody(block), known));
    expect(error.message).toContain(`PR description line ${line}: ${JSON.stringify(text)}`);
    expect(error.message).toMatch(says);
    expect(error.exitCode).toBe(2);
    expect(error.hint).toMatch(/#preview-config block in the PR description/);
  });

  it('reports every problem at once, in line order', () => {
    const body = prBody(['#preview-config', 'database:', '  source: snapshot', '  anonymize: false', '  collections:', '    - nope']);
    const error = errorOf(() => parsePreviewConfig(body, known));
    expect(error.message).toMatch(/has 2 problems/);
    expect(error.message.indexOf('line 9')).toBeLessThan(error.message.indexOf('line 11'));
  });

  it('refuses two config blocks, naming both', () => {
    const one = ['```yaml', '#preview-config', 'database:', '  source: seed', '```'];
    const two = ['~~~', '#preview-config', 'database:', '  source: staging', '~~~'];
    const error = errorOf(() => parsePreviewConfig([...one, 'text', ...two].join('\n'), known));
    expect(error.message).toContain('PR description line 1: "```yaml" — #preview-config block 1 of 2; the description may hold only one');
    expect(error.message).toContain('PR description line 7: "~~~" — #preview-config block 2 of 2');
  });

  it('refuses a block that is never closed', () => {
    const error = errorOf(() => parsePreviewConfig(['```yaml', '#preview-config', 'database:', '  source: staging'].join('\n'), known));
    expect(error.message).toContain('PR description line 1: "```yaml" — the #preview-config block that starts here is never closed');
  });

  it('refuses a dated snapshot that does not exist, and accepts one that does', () => {
    const body = prBody(['#preview-config', 'database:', '  source: snapshot', '  snapshotId: "2026-01-09"']);
    const error = errorOf(() => parsePreviewConfig(body, { ...known, snapshotExists: () => false }));
    expect(error.message).toContain('PR description line 9: "  snapshotId: \\"2026-01-09\\"" — snapshot "2026-01-09" does not exist');
    const asked: string[] = [];
    const config = parsePreviewConfig(body, { ...known, snapshotExists: (id) => (asked.push(id), true) });
    expect(config.snapshotId).toBe('2026-01-09');
    expect(asked).toEqual(['2026-01-09']);
  });

  it('does not look up latest', () => {
    const body = prBody(['#preview-config', 'database:', '  source: snapshot']);
    expect(parsePreviewConfig(body, { ...known, snapshotExists: () => false }).snapshotId).toBe('latest');
  });

  it('with a store lookup: looks up only a dated id of an otherwise valid block, and reports a missing one on its line', async () => {
    const asked: string[] = [];
    const lookup = (exists: boolean) => ({ ...known, snapshotExists: async (id: string) => (asked.push(id), exists) });
    const dated = prBody(['#preview-config', 'database:', '  source: snapshot', '  snapshotId: "2026-01-09"']);
    await expect(parsePreviewConfigWithLookup(dated, lookup(false))).rejects.toThrow('PR description line 9: "  snapshotId: \\"2026-01-09\\"" — snapshot "2026-01-09" does not exist');
    expect((await parsePreviewConfigWithLookup(dated, lookup(true))).snapshotId).toBe('2026-01-09');
    expect((await parsePreviewConfigWithLookup(prBody(['#preview-config', 'database:', '  source: snapshot']), lookup(false))).snapshotId).toBe('latest');
    const invalid = prBody(['#preview-config', 'database:', '  source: snapshot', '  snapshotId: "2026-01-09"', '  anonymize: false']);
    await expect(parsePreviewConfigWithLookup(invalid, lookup(true))).rejects.toThrow('anonymize: false is not allowed');
    expect(asked).toEqual(['2026-01-09', '2026-01-09']);
  });
});
