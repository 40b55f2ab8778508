import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const script = resolve(import.meta.dirname, '../../../ops/scripts/staging-refresh-summary.mjs');

function summarize(log: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'summary-'));
  try {
    const file = join(dir, 'summary.md');
    const result = spawnSync(process.execPath, [script], { input: log, env: { ...process.env, GITHUB_STEP_SUMMARY: file }, encoding: 'utf8' });
    expect(result.status, result.stderr).toBe(0);
    return readFileSync(file, 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('staging refresh job summary', () => {
  it('renders the run report of the Job log as a Markdown table', () => {
    const report = { kind: 'staging-refresh', outcome: 'success', trigger: 'manual', snapshotId: '2026-01-09', sourceAgeSeconds: 7200, collections: 12, documents: 34567, durationSeconds: 312.4 };
    const log = ['{"time":"t","level":"info","msg":"restore 2026-01-09 → syrf_staging"}', 'not json', JSON.stringify({ level: 'info', msg: 'run report', report })].join('\n');
    const text = summarize(log);
    expect(text).toContain('### Staging refresh: success');
    expect(text).toContain('| Snapshot | `2026-01-09` |');
    expect(text).toContain('| Source age | 2.0 h |');
    expect(text).toContain('| Documents | 34567 |');
    expect(text).toContain('| Duration | 312 s |');
  });

  it('says so when the Job never reported, and cannot be broken out of its table', () => {
    expect(summarize('{"msg":"other"}\n')).toMatch(/No run report in the Job log/);
    const hostile = { kind: 'staging-refresh', outcome: 'failure|x\n### injected', snapshotId: '`a`', durationSeconds: 1, reason: 'error' };
    const text = summarize(JSON.stringify({ msg: 'run report', report: hostile }));
    expect(text).not.toMatch(/^### injected/m);
  });
});
