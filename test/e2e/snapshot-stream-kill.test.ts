/**
 * The snapshot archive streams into the store while it is being made, so a
 * run stopped in the middle of the archive (SIGKILL, or a failure with
 * parts still in scratch) must publish nothing: no dump.gz under the id, no
 * manifest, latest.txt on the previous snapshot; and a retry of the same id
 * then succeeds. `--parallel 4` makes collections interleave, so some parts
 * are in scratch while another streams.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killedByFault, runCli, runCliWithFault } from '../support/cli.js';
import { seedDataset } from '../support/dataset.js';
import { connectMongo, createBucket, fakeGcsStorage, gcsEndpoint, mongodbUri, tempDir, uniqueDbName } from '../support/servers.js';

describe('snapshot stopped mid-archive while it streams into the store', () => {
  let client: MongoClient;
  let dbName: string;
  const dir = tempDir();

  beforeAll(async () => {
    client = await connectMongo();
    dbName = uniqueDbName('syrfprod_stream_');
    await seedDataset(client.db(dbName), { studies: 400 });
  });
  afterAll(async () => {
    await client.db(dbName).dropDatabase();
    await client.close();
    dir.remove();
  });

  const snapshot = (url: string, id: string, env: Record<string, string> = {}) =>
    runCli(['snapshot', '--uri', mongodbUri(), '--db', dbName, '--to', url, '--id', id, '--parallel', '4'], { env });

  it.each(['snapshot.upload.chunk:3', 'snapshot.upload.chunk:6:throw'])('file:// store, fault %s: nothing published, latest unchanged, a retry succeeds', async (fault) => {
    const url = `file://${dir.path}/${fault.replace(/[^a-z0-9]/g, '-')}`;
    const prod = join(url.slice('file://'.length), 'prod');
    expect((await snapshot(url, '2026-05-01')).code).toBe(0);

    const stopped = await runCliWithFault(['snapshot', '--uri', mongodbUri(), '--db', dbName, '--to', url, '--id', '2026-05-02', '--parallel', '4'], fault);
    if (fault.endsWith(':throw')) {
      expect(stopped.code, stopped.stderr).not.toBe(0);
      expect(stopped.stderr).toMatch(/injected fault at snapshot\.upload\.chunk #6/);
    } else {
      expect(killedByFault(stopped), stopped.stderr).toBe(true);
    }
    const left = await readdir(join(prod, '2026-05-02')).catch(() => [] as string[]);
    expect(left.filter((name) => name === 'dump.gz' || name === 'manifest.json' || name === 'preview.gz')).toEqual([]);
    expect(await readFile(join(prod, 'latest.txt'), 'utf8')).toBe('prod/2026-05-01\n');

    const retry = await snapshot(url, '2026-05-02');
    expect(retry.code, retry.stderr).toBe(0);
    expect(await readFile(join(prod, 'latest.txt'), 'utf8')).toBe('prod/2026-05-02\n');
    expect((await runCli(['verify', '2026-05-02', '--from', url])).code).toBe(0);
  }, 300_000);

  it('gs:// store (fake-gcs-server), SIGKILL mid-archive: no object under the id, latest unchanged', async () => {
    const env = { SYRF_GCS_ENDPOINT: gcsEndpoint() };
    const bucket = await createBucket();
    const url = `gs://${bucket}`;
    expect((await snapshot(url, '2026-05-01', env)).code).toBe(0);
    const killed = await runCliWithFault(['snapshot', '--uri', mongodbUri(), '--db', dbName, '--to', url, '--id', '2026-05-02', '--parallel', '4'], 'snapshot.upload.chunk:3', { env });
    expect(killedByFault(killed), killed.stderr).toBe(true);
    const objects = (await fakeGcsStorage().bucket(bucket).getFiles())[0].map((f) => f.name).sort();
    // Only the claim of the killed attempt (the next run with this id replaces it); no data.
    expect(objects.filter((name) => name.startsWith('prod/2026-05-02/'))).toEqual(['prod/2026-05-02/ATTEMPT.json']);
    const [latest] = await fakeGcsStorage().bucket(bucket).file('prod/latest.txt').download();
    expect(latest.toString()).toBe('prod/2026-05-01\n');
  }, 300_000);
});
