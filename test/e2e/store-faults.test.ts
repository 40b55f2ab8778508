/**
 * Network faults on store reads, injected deterministically by a proxy in
 * front of fake-gcs-server: a connection reset midway is resumed at the
 * byte it reached; a store that keeps failing or stalls ends in one clear
 * error within bounded time, never a hang or a silent exit; a snapshot
 * whose read-back failed is never listed as complete.
 */
import { randomBytes } from 'node:crypto';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { connectMongo, createBucket, gcsEndpoint, mongodbUri, tempDir, uniqueDbName } from '../support/servers.js';

const NO_STACK = /unexpected failure|\n\s+at /;
// The GCS client neither errors nor ends its stream when the connection is reset: only the idle timeout notices.
const FAST = { SYRF_STORE_IDLE_TIMEOUT_MS: '1500' };

describe('store reads under network faults (gs:// through a breaking proxy)', () => {
  let client: MongoClient;
  let bucket: string;
  const source = uniqueDbName('faultsrc_');
  const work = tempDir();
  const proxies: FaultProxy[] = [];
  const targets: string[] = [];

  const proxy = async (options: { mode: 'reset' | 'stall'; faults: number }) => {
    const started = await startFaultProxy({ upstream: gcsEndpoint(), afterBytes: 48 * 1024, ...options });
    proxies.push(started);
    return started;
  };
  const store = () => `gs://${bucket}/snapshots`;

  beforeAll(async () => {
    client = await connectMongo();
    // Incompressible, so the archive is several times the break point.
    await client.db(source).collection('blobs').insertMany(Array.from({ length: 60 }, (_, i) => ({ i, data: randomBytes(4096).toString('base64') })));
    bucket = await createBucket();
    await writeFile(join(work.path, 'rules.yaml'), 'version: 2\nrules:\n  blobs:\n    default: { transform: keep_subtree, reason: random test bytes without personal data }\n');
    const snap = await runCli(['snapshot', '--uri', mongodbUri(), '--db', source, '--to', store(), '--id', '2026-06-01', '--anonymize', '--rules', join(work.path, 'rules.yaml')], {
      env: { SYRF_GCS_ENDPOINT: gcsEndpoint(), SYRF_ANONYMIZATION_KEY: 'n7Rk2Qx9LvB4mT8wZ1cY6pH3dF5gJ0sAq8Ue2Xi7oW4tN9bK3yV6zM1rC5aE0hG' },
    });
    expect(snap.code, snap.stderr).toBe(0);
  });
  afterAll(async () => {
    for (const p of proxies) await p.close();
    for (const name of [source, ...targets]) await client.db(name).dropDatabase();
    await client.close();
    work.remove();
  });

  it('resumes a download reset midway, and the bytes still match the manifest', async () => {
    const broken = await proxy({ mode: 'reset', faults: 2 });
    const verify = await runCli(['verify', '2026-06-01', '--from', store()], { env: { SYRF_GCS_ENDPOINT: broken.url, ...FAST } });
    expect(verify.code, verify.stderr).toBe(0);
    expect(broken.broken()).toBe(2);
    // A reset surfaces either as a socket error or as a stream that goes quiet (the idle timeout); both resume.
    expect(verify.stderr).toMatch(/failed at byte \d+ \([^)]+\); retry 1 of/);
  });

  it('a restore through resets succeeds and leaves no snapshot copy in its work directory', async () => {
    const broken = await proxy({ mode: 'reset', faults: 2 });
    const target = `syrf_pr_${Math.floor(Math.random() * 1e9)}`;
    targets.push(target);
    const restore = await runCli(['restore', '--from', store(), '--snapshot', '2026-06-01', '--uri', mongodbUri(), '--target', target, '--work-dir', work.path], {
      env: { SYRF_GCS_ENDPOINT: broken.url, ...FAST },
    });
    expect(restore.code, restore.stderr).toBe(0);
    expect(broken.broken()).toBe(2);
    expect(await client.db(target).collection('blobs').countDocuments()).toBe(60);
    expect((await readdir(work.path)).filter((n) => n.startsWith('syrf-restore-'))).toEqual([]);
  });

  it('a store that keeps resetting ends in one clear error after bounded retries', async () => {
    const broken = await proxy({ mode: 'reset', faults: Infinity });
    const started = Date.now();
    const verify = await runCli(['verify', '2026-06-01', '--from', store()], { env: { SYRF_GCS_ENDPOINT: broken.url, SYRF_STORE_READ_RETRIES: '2', ...FAST } });
    expect(verify.code).not.toBe(0);
    expect(verify.stderr).toMatch(/error: .*reading gs:\/\/.*dump\.gz failed after 3 attempts/);
    expect(verify.stderr).toMatch(/what to do: /);
    expect(verify.stderr).not.toMatch(NO_STACK);
    expect(Date.now() - started).toBeLessThan(60_000);
  });

  it('a store that stalls mid-download ends in an idle-timeout error instead of hanging', async () => {
    const stalled = await proxy({ mode: 'stall', faults: Infinity });
    const verify = await runCli(['verify', '2026-06-01', '--from', store()], {
      env: { SYRF_GCS_ENDPOINT: stalled.url, SYRF_STORE_READ_RETRIES: '1', SYRF_STORE_IDLE_TIMEOUT_MS: '1000' },
    });
    expect(verify.code).not.toBe(0);
    expect(verify.stderr).toMatch(/failed after 2 attempts .*no data for 1000 ms/);
    expect(verify.stderr).not.toMatch(NO_STACK);
  });

  it('a snapshot whose read-back verify fails is never listed as complete, and latest does not move', async () => {
    const broken = await proxy({ mode: 'reset', faults: Infinity });
    const snap = await runCli(['snapshot', '--uri', mongodbUri(), '--db', source, '--to', store(), '--id', '2026-06-02'], {
      env: { SYRF_GCS_ENDPOINT: broken.url, SYRF_STORE_READ_RETRIES: '0', ...FAST },
    });
    expect(snap.code).not.toBe(0);
    expect(snap.stderr).not.toMatch(NO_STACK);
    const list = await runCli(['list', '--from', store(), '--json'], { env: { SYRF_GCS_ENDPOINT: gcsEndpoint() } });
    const entries = JSON.parse(list.stdout) as Array<{ id: string; status: string; latest: boolean }>;
    expect(entries.find((e) => e.id === '2026-06-02')?.status).not.toBe('complete');
    expect(entries.find((e) => e.id === '2026-06-01')).toMatchObject({ status: 'complete', latest: true });
  });

  it('rejects a malformed timeout setting with a clear usage error', async () => {
    const verify = await runCli(['verify', '2026-06-01', '--from', store()], { env: { SYRF_GCS_ENDPOINT: gcsEndpoint(), SYRF_STORE_IDLE_TIMEOUT_MS: 'soon' } });
    expect(verify.code).toBe(2);
    expect(verify.stderr).toMatch(/SYRF_STORE_IDLE_TIMEOUT_MS="soon" is not a whole number/);
  });
});
