import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killedByFault, runCli, runCliWithFault } from '../support/cli.js';
import { seedDataset, type DatasetSummary } from '../support/dataset.js';
import { connectMongo, createBucket, fakeGcsStorage, gcsEndpoint, mongodbUri, tempDir, uniqueDbName } from '../support/servers.js';

const EXCLUDED = ['pmAuditLog', 'asFileListing'];

describe('snapshot → list → show → verify', () => {
  let client: MongoClient;
  let dbName: string;
  let seeded: DatasetSummary;
  const dir = tempDir();

  beforeAll(async () => {
    client = await connectMongo();
    dbName = uniqueDbName('syrfprod_');
    seeded = await seedDataset(client.db(dbName), { studies: 400 });
  });
  afterAll(async () => {
    await client.db(dbName).dropDatabase();
    await client.close();
    dir.remove();
  });

  const stores = () => [
    { name: 'file://', url: `file://${dir.path}/store`, env: {} },
    { name: 'gs:// (fake-gcs-server)', url: '', env: { SYRF_GCS_ENDPOINT: gcsEndpoint() } },
  ];

  it.each([0, 1])('captures, lists, shows and verifies through store %#', async (which) => {
    const store = stores()[which]!;
    const url = store.url || `gs://${await createBucket()}/snapshots`;
    const snap = await runCli(
      ['snapshot', '--uri', mongodbUri(), '--db', dbName, '--to', url, '--id', '2026-01-09', '--exclude', EXCLUDED.join(',')],
      { env: store.env },
    );
    expect(snap.stderr).not.toMatch(/unexpected/);
    expect(snap.code, snap.stderr).toBe(0);
    expect(snap.stdout).toMatch(/snapshot 2026-01-09: 6 collections/);

    const list = await runCli(['list', '--from', url, '--json'], { env: store.env });
    expect(list.code, list.stderr).toBe(0);
    const listed = JSON.parse(list.stdout) as Array<Record<string, unknown>>;
    expect(listed).toEqual([expect.objectContaining({ id: '2026-01-09', status: 'complete', latest: true, anonymized: false })]);

    const show = await runCli(['show', 'latest', '--from', url, '--json'], { env: store.env });
    expect(show.code, show.stderr).toBe(0);
    const manifest = JSON.parse(show.stdout) as {
      source: { db: string };
      collections: Array<{ name: string; documents: number; indexes: Array<{ name: string; unique?: boolean }>; schemaVersions: number[] }>;
      excludedCollections: string[];
      archive: { sha256: string };
    };
    expect(manifest.source.db).toBe(dbName);
    expect(manifest.excludedCollections).toEqual(EXCLUDED.slice().sort());
    const byName = Object.fromEntries(manifest.collections.map((c) => [c.name, c]));
    expect(Object.keys(byName).sort()).toEqual(['pmDataExportJob', 'pmInvestigator', 'pmProject', 'pmRiskOfBiasAiJob', 'pmStudy', 'pmSystematicSearch']);
    for (const [name, count] of Object.entries(seeded.counts)) {
      if (!EXCLUDED.includes(name)) expect(byName[name]?.documents, name).toBe(count);
    }
    expect(byName.pmInvestigator?.indexes).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'Email_1', unique: true })]));
    expect(byName.pmStudy?.schemaVersions).toEqual([7]);

    const verify = await runCli(['verify', 'latest', '--from', url], { env: store.env });
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.stdout).toContain(manifest.archive.sha256);
  });

  it('keeps latest.txt in GCS on the previous snapshot when a snapshot is killed mid-upload', async () => {
    const env = { SYRF_GCS_ENDPOINT: gcsEndpoint() };
    const bucket = await createBucket();
    const url = `gs://${bucket}`;
    expect((await runCli(['snapshot', '--uri', mongodbUri(), '--db', dbName, '--to', url, '--id', '2026-04-01'], { env })).code).toBe(0);

    // Killed once compressed archive bytes are streaming into the upload.
    const killed = await runCliWithFault(['snapshot', '--uri', mongodbUri(), '--db', dbName, '--to', url, '--id', '2026-04-02', '--parallel', '1'], 'snapshot.upload.chunk:1', { env });
    expect(killedByFault(killed), killed.stderr).toBe(true);

    const objects = (await fakeGcsStorage().bucket(bucket).getFiles())[0].map((f) => f.name).sort();
    // The killed run left only its claim on the id (ATTEMPT.json), which the next run with that id replaces.
    expect(objects).toEqual(['prod/2026-04-01/dump.gz', 'prod/2026-04-01/manifest.json', 'prod/2026-04-02/ATTEMPT.json', 'prod/latest.txt']);
    const [latest] = await fakeGcsStorage().bucket(bucket).file('prod/latest.txt').download();
    expect(latest.toString()).toBe('prod/2026-04-01\n');
  });

  it('reports a corrupted archive and refuses to promote it', async () => {
    const url = `file://${dir.path}/corrupt`;
    expect((await runCli(['snapshot', '--uri', mongodbUri(), '--db', dbName, '--to', url, '--id', '2026-02-01'])).code).toBe(0);
    const dump = join(dir.path, 'corrupt', 'prod', '2026-02-01', 'dump.gz');
    const bytes = await readFile(dump);
    bytes[Math.floor(bytes.length / 2)]! ^= 0xff;
    await writeFile(dump, bytes);

    const verify = await runCli(['verify', '2026-02-01', '--from', url]);
    expect(verify.code).toBe(4);
    expect(verify.stderr).toMatch(/failed verification: .*sha256 is [0-9a-f]{64}, manifest says/);
    expect(verify.stderr).toMatch(/what to do:/);

    const promote = await runCli(['promote', '2026-02-01', '--from', url]);
    expect(promote.code).toBe(4);
  });

  it('keeps latest on the previous good snapshot when a snapshot is killed mid-upload, and a retry replaces it cleanly', async () => {
    const url = `file://${dir.path}/killed`;
    const storeDir = join(dir.path, 'killed', 'prod');
    expect((await runCli(['snapshot', '--uri', mongodbUri(), '--db', dbName, '--to', url, '--id', '2026-03-01'])).code).toBe(0);

    const killedMidUpload = await runCliWithFault(['snapshot', '--uri', mongodbUri(), '--db', dbName, '--to', url, '--id', '2026-03-02', '--parallel', '1'], 'snapshot.upload.chunk:1');
    expect(killedByFault(killedMidUpload), killedMidUpload.stderr).toBe(true);
    // Whatever the kill left under the id, it is no complete archive and no manifest.
    const left = await readdir(join(storeDir, '2026-03-02')).catch(() => [] as string[]);
    expect(left).not.toContain('dump.gz');
    expect(left).not.toContain('manifest.json');

    expect(await readFile(join(storeDir, 'latest.txt'), 'utf8')).toBe('prod/2026-03-01\n');
    const listed = JSON.parse((await runCli(['list', '--from', url, '--json'])).stdout) as Array<{ id: string; status: string; latest: boolean }>;
    expect(listed.find((s) => s.latest)?.id).toBe('2026-03-01');
    expect(listed.find((s) => s.id === '2026-03-02')?.status ?? 'absent').not.toBe('complete');

    const retry = await runCli(['snapshot', '--uri', mongodbUri(), '--db', dbName, '--to', url, '--id', '2026-03-02']);
    expect(retry.code, retry.stderr).toBe(0);
    expect(await readFile(join(storeDir, 'latest.txt'), 'utf8')).toBe('prod/2026-03-02\n');
    expect((await readdir(join(storeDir, '2026-03-02'))).sort()).toEqual(['dump.gz', 'manifest.json']);
  });

  it.each([0, 1])('two snapshots with the same id at once: the store lets exactly one write it, the other is refused and touches nothing (store %#)', async (which) => {
    const store = stores()[which]!;
    const url = which === 0 ? `file://${dir.path}/same-id` : `gs://${await createBucket()}/same-id`;
    const args = ['snapshot', '--uri', mongodbUri(), '--db', dbName, '--to', url, '--id', '2026-07-01'];
    const [first, second] = await Promise.all([runCli(args, { env: store.env }), runCli(args, { env: store.env })]);
    const codes = [first.code, second.code].sort();
    expect(codes, `${first.stderr}\n---\n${second.stderr}`).toEqual([0, 3]);
    const refused = first.code === 3 ? first : second;
    expect(refused.stderr).toMatch(/already exists: another run wrote it first/);
    expect(refused.stderr).not.toMatch(/unexpected failure/);
    const listed = JSON.parse((await runCli(['list', '--from', url, '--json'], { env: store.env })).stdout) as Array<{ id: string; status: string }>;
    expect(listed.find((e) => e.id === '2026-07-01')?.status).toBe('complete');
    expect((await runCli(['verify', '2026-07-01', '--from', url], { env: store.env })).code).toBe(0);
  });
});

describe('bad input gets one clear error and a non-zero exit', () => {
  const dir = tempDir();
  afterAll(() => dir.remove());

  it('unreachable MongoDB', async () => {
    const result = await runCli(['snapshot', '--uri', 'mongodb://127.0.0.1:1/', '--db', 'x', '--to', `file://${dir.path}`], {
      env: { SYRF_MONGO_TIMEOUT_MS: '1500' },
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error: cannot reach MongoDB at mongodb:\/\/127\.0\.0\.1:1\//m);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('snapshot --anonymize without a key refuses before reading anything', async () => {
    const result = await runCli(['snapshot', '--uri', mongodbUri(), '--db', 'anything', '--to', `file://${dir.path}/nokey`, '--anonymize', '--rules', 'rules/anonymization-rules.yaml'], {
      env: { SYRF_ANONYMIZATION_KEY: '' },
    });
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/^error: no anonymization key: SYRF_ANONYMIZATION_KEY is not set/m);
    expect(result.stderr).toMatch(/what to do: set SYRF_ANONYMIZATION_KEY or pass --key-file/);
  });

  it('unknown database', async () => {
    const result = await runCli(['snapshot', '--uri', mongodbUri(), '--db', 'no_such_db_here', '--to', `file://${dir.path}`]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/database "no_such_db_here" does not exist/);
  });

  it('unreachable store', async () => {
    const result = await runCli(['list', '--from', 'gs://some-bucket'], { env: { SYRF_GCS_ENDPOINT: 'http://127.0.0.1:1', SYRF_GCS_MAX_RETRIES: '0' } });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/cannot reach Cloud Storage \(ECONNREFUSED\)/);
  });

  it('missing bucket', async () => {
    const result = await runCli(['list', '--from', 'gs://no-such-bucket-here'], { env: { SYRF_GCS_ENDPOINT: gcsEndpoint() } });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/bucket gs:\/\/no-such-bucket-here does not exist/);
  });

  it('malformed and unknown snapshot ids', async () => {
    const malformed = await runCli(['show', '2026-13-45', '--from', `file://${dir.path}`]);
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toMatch(/"2026-13-45" is not a snapshot id/);
    const unknown = await runCli(['show', '2026-01-01', '--from', `file://${dir.path}`]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/snapshot "2026-01-01" does not exist/);
    const noLatest = await runCli(['verify', 'latest', '--from', `file://${dir.path}`]);
    expect(noLatest.code).toBe(1);
    expect(noLatest.stderr).toMatch(/latest\.txt does not exist/);
  });

});
