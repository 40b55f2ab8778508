import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { audited, redactCredentials, type AuditRecord } from '../../../runtime/ops/audit.js';
import { resolveIdentity, SERVICE_ACCOUNT_NAMESPACE_FILE, type IdentityInputs } from '../../../runtime/ops/identity.js';
import { UserError } from '../../../runtime/errors.js';

const who = { identity: 'system:serviceaccount:syrf-system:snapshot-restorer', source: 'kubernetes' as const, detail: 'pod restore-12-abc' };

/** A clock that advances 1.5 s per reading. */
function steppingClock(start = '2026-01-09T04:00:00.000Z') {
  let t = Date.parse(start);
  return () => {
    const now = new Date(t);
    t += 1500;
    return now;
  };
}

describe('audited', () => {
  it('writes one JSON line for a successful restore, completed from the result', async () => {
    const lines: string[] = [];
    const result = await audited(
      {
        event: 'restore',
        who,
        what: { snapshotId: 'latest', sha256: null },
        target: 'syrf_pr_12',
        describe: (r: { snapshotId: string; sha256: string; documents: number }) => ({ what: { snapshotId: r.snapshotId, sha256: r.sha256 }, documents: r.documents }),
        now: steppingClock(),
      },
      async () => ({ snapshotId: '2026-01-09', sha256: 'ab'.repeat(32), documents: 1234 }),
      { write: (line) => lines.push(line) },
    );
    expect(result.documents).toBe(1234);
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain('\n');
    expect(JSON.parse(lines[0]!)).toEqual({
      audit: true,
      event: 'restore',
      who,
      what: { snapshotId: '2026-01-09', sha256: 'ab'.repeat(32) },
      where: { target: 'syrf_pr_12' },
      when: '2026-01-09T04:00:00.000Z',
      outcome: 'success',
      durationMs: 1500,
      documents: 1234,
    } satisfies AuditRecord);
  });

  it('writes a failure line with the error, without credentials, and rethrows the original error', async () => {
    const lines: string[] = [];
    const failure = new UserError('cannot connect to mongodb://restorer:s3cret@db.internal:27017/syrf_pr_12');
    await expect(
      audited(
        { event: 'clone', who, what: { snapshotId: null, sha256: null, sourceDb: 'syrf_staging' }, target: 'syrf_pr_12', now: steppingClock() },
        async () => {
          throw failure;
        },
        { write: (line) => lines.push(line) },
      ),
    ).rejects.toBe(failure);
    const record = JSON.parse(lines[0]!) as AuditRecord;
    expect(record).toMatchObject({ event: 'clone', outcome: 'failure', documents: null, what: { sourceDb: 'syrf_staging' }, where: { target: 'syrf_pr_12' } });
    expect(record.error).toBe('cannot connect to mongodb://***@db.internal:27017/syrf_pr_12');
    expect(lines[0]).not.toContain('s3cret');
  });

  it('also appends the line to --audit-log FILE, one line per event', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'audit-'));
    try {
      const file = join(dir, 'audit.jsonl');
      const options = { file, write: () => {} };
      await audited({ event: 'snapshot.write', who, what: { snapshotId: '2026-01-09', sha256: 'cd'.repeat(32) }, target: null }, async () => 1, options);
      await audited({ event: 'snapshot.read', who, what: { snapshotId: '2026-01-09', sha256: 'cd'.repeat(32) }, target: null }, async () => 2, options);
      const events = readFileSync(file, 'utf8')
        .trimEnd()
        .split('\n')
        .map((line) => (JSON.parse(line) as AuditRecord).event);
      expect(events).toEqual(['snapshot.write', 'snapshot.read']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('redactCredentials', () => {
  it('hides user and password in any URL, and leaves other text alone', () => {
    expect(redactCredentials('a mongodb+srv://u:p@cluster0.x.net/db b https://tok@host/x')).toBe('a mongodb+srv://***@cluster0.x.net/db b https://***@host/x');
    expect(redactCredentials('mongodb://localhost:27017/syrf_pr_1 user@example.com')).toBe('mongodb://localhost:27017/syrf_pr_1 user@example.com');
  });
});

describe('resolveIdentity', () => {
  const base = (env: NodeJS.ProcessEnv, files: Record<string, string> = {}): Partial<IdentityInputs> => ({
    env,
    readFile: (path) => files[path] ?? null,
    hostname: () => 'restore-12-x7k2p',
    username: () => 'alice',
  });

  it('prefers SYRF_ACTOR, which CI sets', () => {
    expect(resolveIdentity(base({ SYRF_ACTOR: 'pr-bot', GITHUB_ACTOR: 'octocat', KUBERNETES_SERVICE_HOST: '10.0.0.1' }))).toEqual({ identity: 'pr-bot', source: 'env' });
  });

  it('uses the GitHub actor and names the workflow run', () => {
    expect(
      resolveIdentity(base({ GITHUB_ACTOR: 'octocat', GITHUB_REPOSITORY: 'camarades/syrf', GITHUB_RUN_ID: '991', GITHUB_SERVER_URL: 'https://github.com' })),
    ).toEqual({ identity: 'github:octocat', source: 'github', detail: 'https://github.com/camarades/syrf/actions/runs/991' });
  });

  it('uses the Kubernetes service account from the mounted namespace and SYRF_KSA', () => {
    const identity = resolveIdentity(base({ KUBERNETES_SERVICE_HOST: '10.0.0.1', SYRF_KSA: 'snapshot-restorer' }, { [SERVICE_ACCOUNT_NAMESPACE_FILE]: 'syrf-system\n' }));
    expect(identity).toEqual({ identity: 'system:serviceaccount:syrf-system:snapshot-restorer', source: 'kubernetes', detail: 'pod restore-12-x7k2p' });
  });

  it('falls back to the pod name when the service account name is not given', () => {
    expect(resolveIdentity(base({ KUBERNETES_SERVICE_HOST: '10.0.0.1' }, { [SERVICE_ACCOUNT_NAMESPACE_FILE]: 'previews' }))).toEqual({
      identity: 'k8s:previews/pod/restore-12-x7k2p',
      source: 'kubernetes',
    });
  });

  it('is user@host on a workstation, and survives a uid without a user name', () => {
    expect(resolveIdentity(base({}))).toEqual({ identity: 'alice@restore-12-x7k2p', source: 'local' });
    expect(resolveIdentity({ ...base({ USER: 'bob' }), username: () => null })).toEqual({ identity: 'bob@restore-12-x7k2p', source: 'local' });
  });
});
