/**
 * Operations end to end through a FerretDB of this file's own (staging and
 * the drill database have fixed names, so they must not meet other test
 * files' runs) and a file store: the scheduled staging refresh and its
 * refusals, the restore drill and its demotion of `latest`, and the one
 * notification each run sends to a local webhook receiver.
 */
import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { MongoClient } from 'mongodb';
import { MongoClient as Client } from 'mongodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from '../support/cli.js';
import { seedDataset } from '../support/dataset.js';
import { tempDir } from '../support/servers.js';
import { ensureServerBinaries, startFerretDb, type RunningServer } from '../servers/servers.js';

const KEY = { SYRF_ANONYMIZATION_KEY: 'n7Rk2Qx9LvB4mT8wZ1cY6pH3dF5gJ0sAq8Ue2Xi7oW4tN9bK3yV6zM1rC5aE0hG' };
const SOURCE_DB = 'syrfsrc_ops';
/** The path carries the credential, as Slack's does; it must never be printed. */
const HOOK_SECRET = 'T0001/B0002/s3cr3t-webhook-token-do-not-print';

interface Hook {
  server: Server;
  url: string;
  bodies: string[];
  status: number;
}

async function startHook(): Promise<Hook> {
  const hook: Hook = { server: undefined as never, url: '', bodies: [], status: 200 };
  hook.server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      if (req.url === `/${HOOK_SECRET}` && req.method === 'POST') hook.bodies.push(body);
      res.statusCode = hook.status;
      res.end(hook.status === 200 ? 'ok' : `bad request to ${req.url}`);
    });
  });
  await new Promise<void>((resolve) => hook.server.listen(0, '127.0.0.1', resolve));
  hook.url = `http://127.0.0.1:${(hook.server.address() as AddressInfo).port}/${HOOK_SECRET}`;
  return hook;
}

/** Every string value of the source database long enough to be recognizable: none may reach a message. */
async function dataValues(client: MongoClient): Promise<string[]> {
  const values = new Set<string>();
  const walk = (value: unknown): void => {
    if (typeof value === 'string' && value.length >= 6) values.add(value);
    else if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === 'object' && !Buffer.isBuffer(value) && (value as { _bsontype?: string })._bsontype === undefined) Object.values(value).forEach(walk);
  };
  const db = client.db(SOURCE_DB);
  const names = (await db.listCollections().toArray()).map((c) => c.name);
  for (const name of names) for (const doc of await db.collection(name).find().limit(200).toArray()) walk(doc);
  for (const name of names) values.delete(name);
  return [...values];
}

function expectNoDataValues(body: string, values: string[]): void {
  const lower = body.toLowerCase();
  for (const value of values) expect(lower.includes(value.toLowerCase()), `message contains the data value "${value}"`).toBe(false);
}

/**
 * Puts a damaged copy of a stored file in its place and returns how to put the original back. The original
 * is moved aside, not rewritten, so it comes back as the very version its manifest names (a rewrite would be
 * a new version, which every later reader rightly refuses).
 */
async function damageAside(path: string, damage: (bytes: Buffer) => void): Promise<() => Promise<void>> {
  const aside = `${path}.aside`;
  const bytes = await readFile(path);
  await rename(path, aside);
  damage(bytes);
  await writeFile(path, bytes);
  return () => rename(aside, path);
}

describe('scheduled staging refresh, drill and notifications (FerretDB + file store)', () => {
  let ferret: RunningServer;
  let client: MongoClient;
  let hook: Hook;
  let values: string[];
  const dir = tempDir('syrf-ops-');
  const store = () => `file://${dir.path}/store`;
  const storeDir = () => join(dir.path, 'store');
  const metrics = (name: string) => join(dir.path, `${name}.prom`);
  const env = () => ({ ...KEY, SYRF_NOTIFY_WEBHOOK_URL: hook.url, SYRF_MONGO_TIMEOUT_MS: '1500' });
  const cli = (args: string[]): Promise<CliResult> => runCli(args, { env: env() });

  async function snapshot(id: string): Promise<void> {
    const result = await cli(['snapshot', '--uri', ferret.url, '--db', SOURCE_DB, '--to', store(), '--id', id, '--anonymize', '--rules', 'rules/anonymization-rules.yaml', '--metrics-file', metrics(`snapshot-${id}`)]);
    expect(result.code, result.stderr).toBe(0);
  }

  async function markStaging(): Promise<void> {
    const staging = client.db('syrf_staging');
    await staging.dropDatabase();
    await staging.collection('marker').insertOne({ before: true });
  }

  async function stagingUntouched(): Promise<void> {
    const names = (await client.db('syrf_staging').listCollections().toArray()).map((c) => c.name);
    expect(names).toEqual(['marker']);
  }

  beforeAll(async () => {
    ferret = await startFerretDb(ensureServerBinaries());
    client = new Client(ferret.url);
    await client.connect();
    await seedDataset(client.db(SOURCE_DB), { studies: 40 });
    hook = await startHook();
    values = await dataValues(client);
    expect(values.length).toBeGreaterThan(20);
    await snapshot('2026-01-08');
    await snapshot('2026-01-09');
  });

  afterAll(async () => {
    await client?.close();
    await new Promise<void>((resolve) => hook?.server.close(() => resolve()));
    await ferret?.stop();
    dir.remove();
  });

  beforeEach(() => {
    hook.bodies.length = 0;
    hook.status = 200;
  });

  it('refuses a stale latest snapshot: exit 3, staging untouched, refusal metric, one notification without data', async () => {
    await markStaging();
    const manifest = JSON.parse(await readFile(join(storeDir(), 'prod/2026-01-09/manifest.json'), 'utf8')) as { completedAt: string };
    const maxAgeHours = 0.0005;
    // Wait until the snapshot is certainly older than the threshold (no race: age only grows).
    while (Date.now() - Date.parse(manifest.completedAt) <= maxAgeHours * 3600 * 1000 + 50) await new Promise((r) => setTimeout(r, 100));

    const result = await cli(['staging-refresh', '--from', store(), '--uri', ferret.url, '--confirm', 'refresh-staging', '--max-age-hours', String(maxAgeHours), '--metrics-file', metrics('stale')]);
    expect(result.code, result.stderr).toBe(3);
    expect(result.stderr).toMatch(/error: the latest snapshot 2026-01-09 is [\d.]+ hours old, more than the allowed 0\.0005; staging was not touched/);
    expect(result.stderr).toMatch(/what to do: /);
    await stagingUntouched();

    const prom = await readFile(metrics('stale'), 'utf8');
    expect(prom).toMatch(/^syrf_db_staging_refresh_refused\{job="restore",target="syrf_staging",reason="stale-snapshot"\} 1$/m);
    expect(prom).toMatch(/^syrf_db_staging_refresh_refused\{job="restore",target="syrf_staging",reason="unverified-snapshot"\} 0$/m);
    expect(prom).toMatch(/^syrf_db_job_runs_total\{job="restore",target="syrf_staging",outcome="failure"\} 1$/m);
    expect(prom).toMatch(/^syrf_db_job_last_run_failed\{job="restore",target="syrf_staging"\} 1$/m);

    expect(hook.bodies).toHaveLength(1);
    const message = JSON.parse(hook.bodies[0]!) as { text: string; blocks: unknown[] };
    expect(message.text).toMatch(/Staging refresh \(scheduled\): refused - syrf_staging/);
    expect(message.text).toMatch(/Snapshot: 2026-01-09 \| Source age: \d+ min/);
    expect(message.text).toMatch(/Reason: the latest snapshot is older than the allowed age/);
    expectNoDataValues(hook.bodies[0]!, values);
    expect(result.stderr + result.stdout).not.toContain('s3cr3t');
  });

  it('completes a scheduled refresh of a fresh, verified snapshot with one notification carrying counts, not data', async () => {
    await markStaging();
    const result = await cli(['staging-refresh', '--from', store(), '--uri', ferret.url, '--confirm', 'refresh-staging', '--metrics-file', metrics('fresh')]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^refreshed syrf_staging from 2026-01-09: \d+ collections, \d+ documents$/m);
    const manifest = JSON.parse(await readFile(join(storeDir(), 'prod/2026-01-09/manifest.json'), 'utf8')) as { collections: { name: string; documents: number }[] };
    for (const c of manifest.collections) expect(await client.db('syrf_staging').collection(c.name).countDocuments(), c.name).toBe(c.documents);

    const prom = await readFile(metrics('fresh'), 'utf8');
    expect(prom).toMatch(/^syrf_db_staging_refresh_refused\{job="restore",target="syrf_staging",reason="stale-snapshot"\} 0$/m);
    expect(prom).toMatch(/^syrf_db_staging_last_refresh_timestamp_seconds\{job="restore",target="syrf_staging"\} \d/m);

    expect(hook.bodies).toHaveLength(1);
    const message = JSON.parse(hook.bodies[0]!) as { text: string };
    const total = manifest.collections.reduce((s, c) => s + c.documents, 0);
    expect(message.text).toContain('Staging refresh (scheduled): success - syrf_staging');
    expect(message.text).toContain(`Collections: ${manifest.collections.length} | Documents: ${total}`);
    expectNoDataValues(hook.bodies[0]!, values);
  });

  it('refuses a latest snapshot that fails verification (one flipped byte), leaving staging alone', async () => {
    await markStaging();
    const dump = join(storeDir(), 'prod/2026-01-09/dump.gz');
    const restoreOriginal = await damageAside(dump, (damaged) => {
      damaged[Math.floor(damaged.length / 2)]! ^= 0x01;
    });
    try {
      const result = await cli(['staging-refresh', '--from', store(), '--uri', ferret.url, '--confirm', 'refresh-staging', '--metrics-file', metrics('unverified')]);
      expect(result.code, result.stderr).toBe(3);
      expect(result.stderr).toMatch(/the latest snapshot 2026-01-09 failed verification/);
      await stagingUntouched();
      expect(await readFile(metrics('unverified'), 'utf8')).toMatch(/reason="unverified-snapshot"\} 1$/m);
      expect(hook.bodies).toHaveLength(1);
      expect(JSON.parse(hook.bodies[0]!).text).toMatch(/refused .*Reason: the latest snapshot failed verification/s);
    } finally {
      await restoreOriginal();
    }
  });

  it('a staging refresh without the confirmation word is refused by the restore guard', async () => {
    await markStaging();
    const result = await cli(['staging-refresh', '--from', store(), '--uri', ferret.url]);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/refusing to overwrite syrf_staging without confirmation/);
    await stagingUntouched();
    expect(hook.bodies).toHaveLength(1);
  });

  it('a manual staging restore also sends exactly one notification', async () => {
    const result = await cli(['--log-format', 'json', 'restore', '--from', store(), '--uri', ferret.url, '--target', 'syrf_staging', '--confirm', 'refresh-staging', '--no-size-limits', '--metrics-file', metrics('manual')]);
    expect(result.code, result.stderr).toBe(0);
    expect(hook.bodies).toHaveLength(1);
    // The workflow's job summary is built from the same facts, read from the Job's JSON log.
    const summary = spawnSync(process.execPath, ['ops/scripts/staging-refresh-summary.mjs'], { input: result.stderr, encoding: 'utf8', env: { ...process.env, GITHUB_STEP_SUMMARY: '' } });
    expect(summary.stdout).toContain('### Staging refresh: success');
    expect(summary.stdout).toContain('| Snapshot | `2026-01-09` |');
    expect(summary.stdout).toMatch(/\| Documents \| [1-9]\d* \|/);
    expectNoDataValues(summary.stdout, values);
    expect(JSON.parse(hook.bodies[0]!).text).toContain('Staging refresh (manual): success - syrf_staging');
    expectNoDataValues(hook.bodies[0]!, values);
  });

  it('a passing drill restores into syrf_drill, drops it, records success and stays quiet', async () => {
    const result = await cli(['drill', '--from', store(), '--uri', ferret.url, '--sample', '5', '--metrics-file', metrics('drill-ok')]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^drill 2026-01-09: restored \d+ documents in \d+ collections into syrf_drill, counts match, [1-9]\d* sampled documents identical; syrf_drill dropped$/m);
    const dbs = (await client.db().admin().listDatabases()).databases.map((d) => d.name);
    expect(dbs).not.toContain('syrf_drill');
    const prom = await readFile(metrics('drill-ok'), 'utf8');
    expect(prom).toMatch(/^syrf_db_job_runs_total\{job="drill",outcome="success"\} 1$/m);
    expect(prom).toMatch(/^syrf_db_drill_last_success_timestamp_seconds\{job="drill"\} \d/m);
    expect(hook.bodies).toHaveLength(0);
  });

  it('a failing drill of latest demotes latest to the previous verified snapshot, drops syrf_drill and sends one notification', async () => {
    const dump = join(storeDir(), 'prod/2026-01-09/dump.gz');
    // Same size, one byte different.
    const restoreOriginal = await damageAside(dump, (damaged) => {
      damaged[Math.floor(damaged.length / 2)]! ^= 0xff;
    });
    try {
      const result = await cli(['drill', '--from', store(), '--uri', ferret.url, '--metrics-file', metrics('drill-bad')]);
      expect(result.code, result.stderr).toBe(4);
      expect(await readFile(join(storeDir(), 'prod/latest.txt'), 'utf8')).toBe('prod/2026-01-08\n');
      const dbs = (await client.db().admin().listDatabases()).databases.map((d) => d.name);
      expect(dbs).not.toContain('syrf_drill');
      const prom = await readFile(metrics('drill-bad'), 'utf8');
      expect(prom).toMatch(/^syrf_db_job_runs_total\{job="drill",outcome="failure"\} 1$/m);
      expect(prom).toMatch(/^syrf_db_drill_latest_demoted\{job="drill"\} 1$/m);
      expect(hook.bodies).toHaveLength(1);
      const message = JSON.parse(hook.bodies[0]!) as { text: string };
      expect(message.text).toMatch(/Restore drill \(scheduled\): failure - syrf_drill/);
      expect(message.text).toMatch(/Snapshot: 2026-01-09 .*Reason: the snapshot data is corrupt or does not match its manifest \| latest now: 2026-01-08/);
      expectNoDataValues(hook.bodies[0]!, values);
    } finally {
      await restoreOriginal();
      await writeFile(join(storeDir(), 'prod/latest.txt'), 'prod/2026-01-09\n');
    }
  });

  it('a drill that cannot reach its database fails without demoting latest', async () => {
    const result = await cli(['drill', '--from', store(), '--uri', 'mongodb://127.0.0.1:1/', '--metrics-file', metrics('drill-down')]);
    expect(result.code).not.toBe(0);
    expect(await readFile(join(storeDir(), 'prod/latest.txt'), 'utf8')).toBe('prod/2026-01-09\n');
    expect(hook.bodies).toHaveLength(1);
    expect(JSON.parse(hook.bodies[0]!).text).toMatch(/Restore drill .*failure/);
  });

  it('a failing snapshot sends one notification with its id and outcome, nothing from the error', async () => {
    const result = await cli(['snapshot', '--uri', 'mongodb://127.0.0.1:1/', '--db', SOURCE_DB, '--to', store(), '--id', '2026-01-10', '--anonymize', '--rules', 'rules/anonymization-rules.yaml', '--metrics-file', metrics('snap-bad')]);
    expect(result.code).not.toBe(0);
    expect(hook.bodies).toHaveLength(1);
    const body = hook.bodies[0]!;
    expect(JSON.parse(body).text).toMatch(/Snapshot \(scheduled\): failure/);
    expect(JSON.parse(body).text).toContain('Snapshot: 2026-01-10');
    expect(JSON.parse(body).text).toContain('Reason: the job failed; see its log');
    // The error (host, port, driver text) stays in the log.
    expect(body).not.toMatch(/127\.0\.0\.1|ECONNREFUSED|mongodb:/);
    expectNoDataValues(body, values);
    expect(await readFile(metrics('snap-bad'), 'utf8')).toMatch(/^syrf_db_job_last_run_failed\{job="snapshot"\} 1$/m);
  });

  it('never prints the webhook URL, whether the receiver refuses or cannot be reached', async () => {
    hook.status = 500;
    const refused = await cli(['drill', '--from', store(), '--uri', 'mongodb://127.0.0.1:1/']);
    expect(refused.stderr).toMatch(/could not send the drill notification to \$SYRF_NOTIFY_WEBHOOK_URL: the webhook answered 500/);
    expect(refused.stderr).not.toContain('s3cr3t');
    const closed = `http://127.0.0.1:1/${HOOK_SECRET}`;
    const unreachable = await runCli(['drill', '--from', store(), '--uri', 'mongodb://127.0.0.1:1/'], { env: { SYRF_NOTIFY_WEBHOOK_URL: closed, SYRF_MONGO_TIMEOUT_MS: '500' } });
    expect(unreachable.stderr).toMatch(/could not send the drill notification/);
    expect(unreachable.stderr).not.toContain('s3cr3t');
  });
});
