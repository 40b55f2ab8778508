import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import {
  appendGithubOutputs,
  formatGithubOutputs,
  previewConfigOutputs,
  summarizePreviewConfig,
} from '../../../runtime/preview-config/github-output.js';
import { parsePreviewConfig, type PreviewConfig } from '../../../runtime/preview-config/parse.js';
import { prBodyFromEvent, readPrBody } from '../../../runtime/preview-config/pr-body.js';
import { UserError } from '../../../runtime/errors.js';

const snapshotConfig: PreviewConfig = {
  source: 'snapshot',
  snapshotId: 'latest',
  anonymize: true,
  collections: ['pmProject', 'pmStudy'],
  passthrough: { web: { featureFlags: { experimentalFeature: true } } },
  blockLine: 12,
};

/** Reads a $GITHUB_OUTPUT file the way the runner does: `name=value` lines and `name<<DELIM` heredocs. */
function parseGithubOutputFile(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') continue;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const [, name, delimiter] = heredoc;
      const value: string[] = [];
      i++;
      while (i < lines.length && lines[i] !== delimiter) value.push(lines[i++]!);
      if (i >= lines.length) throw new Error(`unterminated heredoc for ${name}`);
      outputs[name!] = value.join('\n');
      continue;
    }
    const eq = line.indexOf('=');
    if (eq < 0) throw new Error(`malformed output line: ${line}`);
    outputs[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return outputs;
}

describe('GitHub outputs', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('maps the policy to db_source, snapshot_id, anonymize and compact JSON collections', () => {
    expect(previewConfigOutputs(snapshotConfig)).toEqual({
      db_source: 'snapshot',
      snapshot_id: 'latest',
      anonymize: 'true',
      collections: '["pmProject","pmStudy"]',
      passthrough: '{"web":{"featureFlags":{"experimentalFeature":true}}}',
    });
  });

  it('gives seed an empty snapshot id and an empty collection list', () => {
    const seed = parsePreviewConfig('no config here', { knownCollections: [] });
    expect(previewConfigOutputs(seed)).toMatchObject({ db_source: 'seed', snapshot_id: '', collections: '[]' });
  });

  it('appends heredoc-delimited outputs after what earlier steps wrote', async () => {
    dir = mkdtempSync(join(tmpdir(), 'gh-output-'));
    const file = join(dir, 'output');
    writeFileSync(file, 'earlier=kept\n');
    await appendGithubOutputs(file, { ...previewConfigOutputs(snapshotConfig) });
    const text = readFileSync(file, 'utf8');
    expect(text.startsWith('earlier=kept\n')).toBe(true);
    expect(text).toMatch(/^db_source<<ghadelimiter_[0-9a-f-]{36}$/m);
    expect(parseGithubOutputFile(text)).toEqual({ earlier: 'kept', ...previewConfigOutputs(snapshotConfig) });
  });

  it('cannot be tricked into extra outputs by a value holding newlines or the delimiter', () => {
    const delimiters = ['EOF', 'EOF', 'OTHER'];
    const text = formatGithubOutputs({ a: 'x\nEOF\ninjected=1', b: 'plain' }, () => delimiters.shift()!);
    expect(parseGithubOutputFile(text)).toEqual({ a: 'x\nEOF\ninjected=1', b: 'plain' });
  });
});

describe('summary line', () => {
  it('names the source, snapshot, collections and where the block is', () => {
    expect(summarizePreviewConfig(snapshotConfig)).toBe(
      'database source: snapshot; snapshot latest; collections pmProject, pmStudy; anonymized; other settings: web (#preview-config at PR description line 12)',
    );
  });

  it('says when there is no block at all', () => {
    const line = summarizePreviewConfig(parsePreviewConfig('', { knownCollections: [] }));
    expect(line).toBe("database source: seed; the app's seeder fills the database (no #preview-config block in the PR description)");
    expect(line).not.toContain('\n');
  });
});

describe('reading the PR description', () => {
  it('reads stdin for --pr-body -', async () => {
    expect(await readPrBody({ prBody: '-', stdin: Readable.from([Buffer.from('line 1\r\n'), Buffer.from('line 2')]) })).toBe('line 1\r\nline 2');
  });

  it("reads pull_request.body from GITHUB_EVENT_PATH, and a null body is an empty description", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-event-'));
    try {
      const event = join(dir, 'event.json');
      writeFileSync(event, JSON.stringify({ action: 'edited', pull_request: { number: 7, body: '```yaml\n#preview-config\n```' } }));
      expect(await readPrBody({ env: { GITHUB_EVENT_PATH: event } })).toBe('```yaml\n#preview-config\n```');
      writeFileSync(event, JSON.stringify({ pull_request: { number: 7, body: null } }));
      expect(await readPrBody({ env: { GITHUB_EVENT_PATH: event } })).toBe('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses an event that is not a pull request, and a missing source', async () => {
    expect(() => prBodyFromEvent(JSON.stringify({ ref: 'refs/heads/main' }), '/tmp/event.json')).toThrow(/is not a pull_request event/);
    await expect(readPrBody({ env: {} })).rejects.toThrow(UserError);
    await expect(readPrBody({ env: {} })).rejects.toThrow(/--pr-body was not given and GITHUB_EVENT_PATH is not set/);
  });
});
