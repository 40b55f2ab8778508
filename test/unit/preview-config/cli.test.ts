/** `syrf-db preview-config` as the PR workflow runs it (no servers needed: a file:// store stands in for the bucket). */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../support/cli.js';
import { tempDir } from '../../support/servers.js';

const work = tempDir('preview-config-cli-');
afterAll(() => work.remove());

const body = (database: string[]) => ['## Change', '', '```yaml', '#preview-config', 'database:', ...database, 'web:', '  featureFlags:', '    beta: true', '```', ''].join('\r\n');

describe('syrf-db preview-config', () => {
  it('prints the summary and writes step outputs from stdin', async () => {
    const output = join(work.path, 'github-output-1');
    const result = await runCli(['preview-config', '--pr-body', '-', '--github-output', output], {
      input: body(['  source: snapshot', '  collections:', '    - pmStudy', '    - pmProject']),
    });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      'database source: snapshot; snapshot latest; collections pmStudy, pmProject; anonymized; other settings: web (#preview-config at PR description line 3)\n',
    );
    const written = readFileSync(output, 'utf8');
    expect(written).toMatch(/^db_source<<(ghadelimiter_\S+)\nsnapshot\n\1$/m);
    expect(written).toMatch(/^collections<<(ghadelimiter_\S+)\n\["pmStudy","pmProject"\]\n\1$/m);
  });

  it('reads pull_request.body from GITHUB_EVENT_PATH when --pr-body is not given', async () => {
    const event = join(work.path, 'event.json');
    writeFileSync(event, JSON.stringify({ pull_request: { number: 12, body: body(['  source: staging']) } }));
    const result = await runCli(['preview-config', '--json'], { env: { GITHUB_EVENT_PATH: event } });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ source: 'staging', snapshotId: null, passthrough: { web: { featureFlags: { beta: true } } } });
  });

  it('fails with the quoted line and exit code 2 for a collection the rules file does not know', async () => {
    const result = await runCli(['preview-config', '--pr-body', '-'], { input: body(['  source: snapshot', '  collections: [pmStudy, pmSecrets]']) });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('error: PR description line 7: "  collections: [pmStudy, pmSecrets]" — collection "pmSecrets" is not one the anonymization rules know');
    expect(result.stderr).toContain('what to do: fix the #preview-config block');
  });

  it('with --from, accepts a dated snapshot that exists and refuses one that does not', async () => {
    const store = join(work.path, 'store');
    mkdirSync(join(store, 'prod', '2026-01-09'), { recursive: true });
    writeFileSync(join(store, 'prod', '2026-01-09', 'manifest.json'), '{}');

    const ok = await runCli(['preview-config', '--pr-body', '-', '--from', `file://${store}`], {
      input: body(['  source: snapshot', '  snapshotId: 2026-01-09']),
    });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('snapshot 2026-01-09');

    const missing = await runCli(['preview-config', '--pr-body', '-', '--from', `file://${store}`], {
      input: body(['  source: snapshot', '  snapshotId: 2026-01-10']),
    });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('PR description line 7: "  snapshotId: 2026-01-10" — snapshot "2026-01-10" does not exist');
  });
});
