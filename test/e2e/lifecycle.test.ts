/**
 * The preview lifecycle through the real CLI on its own FerretDB (the sweep looks
 * at every database on the server, so it must not share one with other tests):
 * `drop` removes exactly one preview database and refuses everything else; `sweep`
 * drops databases of PRs that are not open or that outlived the age limit.
 */
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { ensureServerBinaries, startFerretDb, type RunningServer } from '../servers/servers.js';
import { LOCK_COLLECTION } from '../../runtime/restore/lock.js';
import { SWEEP_STAMP_COLLECTION } from '../../runtime/lifecycle/sweep.js';

describe('preview database lifecycle', () => {
  let server: RunningServer;
  let client: MongoClient;
  const cli = (args: string[], input?: string) => runCli([...args, '--uri', server.url], input === undefined ? {} : { input });
  const names = async () => (await client.db('admin').admin().listDatabases({ nameOnly: true })).databases.map((d) => d.name);
  const seed = (db: string) => client.db(db).collection('pmProject').insertOne({ Name: db });

  beforeAll(async () => {
    server = await startFerretDb(ensureServerBinaries());
    client = new MongoClient(server.url, { serverSelectionTimeoutMS: 10_000 });
    await client.connect();
  }, 120_000);
  afterAll(async () => {
    await client?.close();
    await server?.stop();
  });

  it('drop removes syrf_pr_<N> and is a no-op when it is already gone', async () => {
    await seed('syrf_pr_101');
    await seed('syrf_pr_1010');
    const first = await cli(['drop', '--target', 'syrf_pr_101']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toBe('dropped syrf_pr_101\n');
    expect(await names()).not.toContain('syrf_pr_101');
    expect(await names()).toContain('syrf_pr_1010');
    const again = await cli(['drop', '--target', 'syrf_pr_101']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('does not exist; nothing to drop');
  });

  it('drop refuses production, staging and anything that is not a preview database, touching nothing', async () => {
    for (const db of ['syrftest', 'syrf_staging', 'other_app']) await seed(db);
    for (const target of ['syrftest', 'SyrfTest', 'syrf_staging', 'syrf_pr_0', 'syrf_pr_007', 'other_app', 'syrf_pr_1 ', 'syrf_pr_1/x']) {
      const result = await cli(['drop', '--target', target]);
      expect([2, 3], `${target}: ${result.stderr}`).toContain(result.code);
      expect(result.stderr).toMatch(/^error: /);
      expect(result.stderr).toContain('what to do:');
      expect(result.stderr).not.toMatch(/\n\s+at /);
    }
    expect(await names()).toEqual(expect.arrayContaining(['syrftest', 'syrf_staging', 'other_app']));
    expect(await client.db('syrftest').collection('pmProject').countDocuments()).toBe(1);
  });

  it('drop does not pull a database out from under a running restore', async () => {
    await seed('syrf_pr_102');
    await client.db('syrf_pr_102').collection<{ _id: string }>(LOCK_COLLECTION).insertOne({
      _id: 'restore', holder: 'a restore', token: 't', host: 'h', pid: 1, acquiredAt: new Date(), expiresAt: new Date(Date.now() + 600_000),
    } as never);
    const result = await cli(['drop', '--target', 'syrf_pr_102']);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('locked by another restore');
    expect(await client.db('syrf_pr_102').collection('pmProject').countDocuments()).toBe(1);
  });

  it('sweep drops databases of PRs that are not open and those past the age limit, keeps the rest, and says so', async () => {
    for (const db of ['syrf_pr_201', 'syrf_pr_202', 'syrf_pr_203', 'syrftest', 'syrf_staging']) await seed(db);
    // 203 was first seen by a sweep 30 days ago.
    await client.db('syrf_pr_203').collection<{ _id: string; at: Date }>(SWEEP_STAMP_COLLECTION).insertOne({ _id: 'first-seen', at: new Date(Date.now() - 30 * 86_400_000) });
    await client.db('syrf_pr_102').collection(LOCK_COLLECTION).deleteMany({});
    const open = JSON.stringify([{ number: 201 }, { number: 203 }, { number: 1010 }, { number: 102 }]);

    const dry = await cli(['sweep', '--open-prs', '-', '--older-than', '14d', '--dry-run'], open);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('would drop syrf_pr_202: PR #202 is not open');
    expect(await names()).toContain('syrf_pr_202');

    const result = await cli(['sweep', '--open-prs', '-', '--older-than', '14d'], open);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('dropped syrf_pr_202: PR #202 is not open');
    expect(result.stdout).toMatch(/dropped syrf_pr_203: older than the limit \(30\.0 days\)/);
    expect(result.stdout).toMatch(/kept syrf_pr_201: PR #201 is open/);
    const left = await names();
    expect(left).not.toContain('syrf_pr_202');
    expect(left).not.toContain('syrf_pr_203');
    expect(left).toEqual(expect.arrayContaining(['syrf_pr_201', 'syrf_pr_1010', 'syrf_pr_102', 'syrftest', 'syrf_staging']));
  });

  it('sweep with an unusable open-PR list drops nothing', async () => {
    const before = (await names()).sort();
    for (const input of ['', 'not json', '{"number": 1}', '[0]', '["201"]', '[{"num": 201}]']) {
      const result = await cli(['sweep', '--open-prs', '-'], input);
      expect(result.code, `${JSON.stringify(input)}: ${result.stderr}`).toBe(2);
      expect(result.stderr).toContain('nothing was dropped');
    }
    const badAge = await cli(['sweep', '--open-prs', '-', '--older-than', '2 weeks'], '[]');
    expect(badAge.code).toBe(2);
    expect((await names()).sort()).toEqual(before);
  });
});
