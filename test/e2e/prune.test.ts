import { cp, mkdir, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { connectMongo, mongodbUri, tempDir, uniqueDbName } from '../support/servers.js';

/**
 * Retention through the real CLI on a file:// store: one real snapshot is
 * copied under 40 daily ids, plus a stale incomplete one and a fresh one.
 */
describe('prune', () => {
  let client: MongoClient;
  let dbName: string;
  const dir = tempDir();
  const store = () => `file://${dir.path}`;
  const prod = () => join(dir.path, 'prod');

  beforeAll(async () => {
    client = await connectMongo();
    dbName = uniqueDbName('syrfprune_');
    await client.db(dbName).collection('pmProject').insertMany([{ Name: 'a' }, { Name: 'b' }]);
    const snap = await runCli(['snapshot', '--uri', mongodbUri(), '--db', dbName, '--to', store(), '--id', '2026-03-31']);
    expect(snap.code, snap.stderr).toBe(0);
    for (let day = 1; day < 40; day++) {
      const id = new Date(Date.UTC(2026, 2, 31) - day * 86_400_000).toISOString().slice(0, 10);
      await cp(join(prod(), '2026-03-31'), join(prod(), id), { recursive: true });
    }
    // An attempt that died long ago (archive, no manifest) and one that may still be running.
    for (const [id, age] of [['2026-02-10-retry', 10 * 86_400_000], ['2026-03-31-manual', 60_000]] as const) {
      await mkdir(join(prod(), id), { recursive: true });
      await writeFile(join(prod(), id, 'dump.gz'), 'partial');
      const when = new Date(Date.now() - age);
      await utimes(join(prod(), id, 'dump.gz'), when, when);
    }
    // latest points at an old snapshot, which therefore must survive.
    await writeFile(join(prod(), 'latest.txt'), 'prod/2026-02-25\n');
  });

  afterAll(async () => {
    await client.db(dbName).dropDatabase();
    await client.close();
    dir.remove();
  });

  it('plans without deleting on --dry-run, then keeps 7 daily + 4 weekly + latest and removes the rest', async () => {
    const before = (await readdir(prod())).sort();
    const dry = await runCli(['prune', '--from', store(), '--daily', '7', '--weekly', '4', '--dry-run', '--json']);
    expect(dry.code, dry.stderr).toBe(0);
    expect((await readdir(prod())).sort()).toEqual(before);
    const plan = JSON.parse(dry.stdout) as { dryRun: boolean; decisions: Array<{ id: string; action: string; reason: string }> };
    expect(plan.dryRun).toBe(true);

    const result = await runCli(['prune', '--from', store(), '--daily', '7', '--weekly', '4']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^deleted 2026-02-10-retry {2}\(incomplete for over 24 h\)$/m);
    expect(result.stdout).toMatch(/^keep {3}2026-02-25 {2}\(latest\)$/m);

    const left = (await readdir(prod())).filter((name) => name !== 'latest.txt').sort();
    expect(left).toEqual([
      '2026-02-25', // latest
      '2026-03-15', '2026-03-22', // newest of ISO weeks 11 and 12
      '2026-03-25', '2026-03-26', '2026-03-27', '2026-03-28', '2026-03-29', '2026-03-30', '2026-03-31', // 7 daily; 03-31 and 03-29 are also the newest of weeks 14 and 13
      '2026-03-31-manual', // incomplete but young: may still be running
    ]);
    expect(plan.decisions.filter((d) => d.action === 'keep').map((d) => d.id).sort()).toEqual(left);

    const list = JSON.parse((await runCli(['list', '--from', store(), '--json'])).stdout) as Array<{ id: string; latest: boolean }>;
    expect(list.find((s) => s.latest)?.id).toBe('2026-02-25');
    await rm(join(prod(), '2026-03-31-manual'), { recursive: true });
  });
});
