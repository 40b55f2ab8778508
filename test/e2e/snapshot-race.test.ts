/**
 * Two snapshots with the same id, their interleaving decided step by step by
 * the fault hook's `pause` (not by timing): exactly one wins, the other is
 * refused with a clear error and touches none of the winner's objects, and
 * `latest`'s manifest and dump agree afterwards.
 */
import { existsSync } from 'node:fs';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from '../support/cli.js';
import { connectMongo, createBucket, fakeGcsStorage, gcsEndpoint, mongodbUri, tempDir, uniqueDbName } from '../support/servers.js';

const NO_STACK = /unexpected failure|\n\s+at /;

async function until(path: string, run: Promise<CliResult>): Promise<void> {
  // The paused process writes the file before it blocks; a run that ends first fails the test.
  let ended: CliResult | undefined;
  void run.then((r) => (ended = r));
  while (!existsSync(path)) {
    if (ended) throw new Error(`the run ended before pausing: ${ended.stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('two snapshots with the same id', () => {
  let client: MongoClient;
  const source = uniqueDbName('racesrc_');
  const work = tempDir();

  beforeAll(async () => {
    client = await connectMongo();
    await client.db(source).collection('things').insertMany(Array.from({ length: 200 }, (_, i) => ({ i, label: `thing ${i}` })));
  });
  afterAll(async () => {
    await client.db(source).dropDatabase();
    await client.close();
    work.remove();
  });

  const stores = [
    ['file://', async (name: string) => ({ url: `file://${work.path}/${name}`, env: {} as Record<string, string>, objects: async (id: string) => (await readdir(join(work.path, name, 'prod', id))).sort() })],
    [
      'gs:// (fake-gcs-server)',
      async () => {
        const bucket = await createBucket();
        return {
          url: `gs://${bucket}`,
          env: { SYRF_GCS_ENDPOINT: gcsEndpoint() } as Record<string, string>,
          objects: async (id: string) => (await fakeGcsStorage().bucket(bucket).getFiles({ prefix: `prod/${id}/` }))[0].map((f) => f.name.split('/').pop()!).sort(),
        };
      },
    ],
  ] as const;

  const snapshot = (url: string, id: string, env: Record<string, string | undefined>) =>
    runCli(['snapshot', '--uri', mongodbUri(), '--db', source, '--to', url, '--id', id, '--parallel', '1'], { env });

  it.each(stores)('%s: two runs replacing the same failed attempt: the one paused before its deletes is refused and deletes nothing of the winner', async (_name, make) => {
    const store = await make('replace');
    const id = '2026-09-01';
    const failed = await runCli(['snapshot', '--uri', mongodbUri(), '--db', source, '--to', store.url, '--id', id], { env: { ...store.env, SYRF_FAULT: 'snapshot.verified:1:throw' } });
    expect(failed.code).not.toBe(0);
    expect(await store.objects(id)).toEqual(expect.arrayContaining(['FAILED.json', 'dump.gz']));

    const faults = tempDir('syrf-faults-');
    try {
      const paused = snapshot(store.url, id, { ...store.env, SYRF_FAULT: 'snapshot.replace:1:pause', SYRF_FAULT_DIR: faults.path });
      await until(join(faults.path, 'snapshot.replace.paused'), paused);
      const winner = await snapshot(store.url, id, store.env);
      expect(winner.code, winner.stderr).toBe(0);
      const before = await store.objects(id);
      await writeFile(join(faults.path, 'snapshot.replace.resume'), '');
      const loser = await paused;
      expect(loser.code, loser.stderr).toBe(3);
      expect(loser.stderr).toMatch(/^error: .*(another run is writing the same snapshot|another run wrote it first)/m);
      expect(loser.stderr).not.toMatch(NO_STACK);
      expect(await store.objects(id)).toEqual(before);
      expect(before).toEqual(['dump.gz', 'manifest.json']);
    } finally {
      faults.remove();
    }
    const verify = await runCli(['verify', 'latest', '--from', store.url], { env: store.env });
    expect(verify.code, verify.stderr).toBe(0);
  });

  it.each(stores)('%s: a run that finds the id being written by a live run is refused at once, and the live run completes', async (_name, make) => {
    const store = await make('live');
    const id = '2026-09-02';
    const faults = tempDir('syrf-faults-');
    try {
      // Paused after its dump is uploaded and checked, before the manifest: the moment an earlier version deleted it.
      const first = snapshot(store.url, id, { ...store.env, SYRF_FAULT: 'snapshot.verified:1:pause', SYRF_FAULT_DIR: faults.path });
      await until(join(faults.path, 'snapshot.verified.paused'), first);
      const second = await snapshot(store.url, id, store.env);
      expect(second.code, second.stderr).toBe(3);
      expect(second.stderr).toMatch(/^error: snapshot 2026-09-02 is being written by another run \(pid \d+ on /m);
      expect(second.stderr).not.toMatch(NO_STACK);
      await writeFile(join(faults.path, 'snapshot.verified.resume'), '');
      const done = await first;
      expect(done.code, done.stderr).toBe(0);
    } finally {
      faults.remove();
    }
    expect(await store.objects(id)).toEqual(['dump.gz', 'manifest.json']);
    expect((await runCli(['verify', 'latest', '--from', store.url], { env: store.env })).code).toBe(0);
  });

  it('file://: a killed attempt (its process gone) is replaced by the next run', async () => {
    const url = `file://${work.path}/killed`;
    const id = '2026-09-03';
    const killed = await runCli(['snapshot', '--uri', mongodbUri(), '--db', source, '--to', url, '--id', id], { env: { SYRF_FAULT: 'snapshot.verified:1:kill' } });
    expect(killed.signal).toBe('SIGKILL');
    expect((await readdir(join(work.path, 'killed', 'prod', id))).sort()).toEqual(['ATTEMPT.json', 'dump.gz']);
    const retry = await runCli(['snapshot', '--uri', mongodbUri(), '--db', source, '--to', url, '--id', id]);
    expect(retry.code, retry.stderr).toBe(0);
    expect((await readdir(join(work.path, 'killed', 'prod', id))).sort()).toEqual(['dump.gz', 'manifest.json']);
  });
});
