/**
 * A manifest names the exact stored version of its dump.gz and preview.gz.
 * When either object is replaced after the manifest was written — here with
 * byte-identical content, which every checksum accepts — verify, restore and
 * per-PR restore (preview edition) refuse it with a clear error and write nothing.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { connectMongo, createBucket, fakeGcsStorage, gcsEndpoint, mongodbUri, tempDir, uniqueDbName } from '../support/servers.js';

const KEY = { SYRF_ANONYMIZATION_KEY: 'n7Rk2Qx9LvB4mT8wZ1cY6pH3dF5gJ0sAq8Ue2Xi7oW4tN9bK3yV6zM1rC5aE0hG' };
const NO_STACK = /unexpected failure|\n\s+at /;

describe('a dump or preview replaced after its manifest was written is refused', () => {
  let client: MongoClient;
  const source = uniqueDbName('replsrc_');
  const work = tempDir();
  const targets: string[] = [];
  let pr = 7100;

  beforeAll(async () => {
    client = await connectMongo();
    await client.db(source).collection('things').insertMany(Array.from({ length: 50 }, (_, i) => ({ i, label: `thing ${i}` })));
    await client.db(source).collection('others').insertMany(Array.from({ length: 5 }, (_, i) => ({ i })));
    await writeFile(
      join(work.path, 'rules.yaml'),
      'version: 2\nrules:\n  things:\n    default: { transform: keep_subtree, reason: test data without personal data }\n  others:\n    default: { transform: keep_subtree, reason: test data without personal data }\n',
    );
  });
  afterAll(async () => {
    for (const name of [source, ...targets]) await client.db(name).dropDatabase();
    await client.close();
    work.remove();
  });

  const cases = [
    { name: 'file://', env: {} as Record<string, string>, kind: 'file' as const },
    { name: 'gs:// (fake-gcs-server)', env: { SYRF_GCS_ENDPOINT: '' }, kind: 'gcs' as const },
  ];

  it.each(cases.flatMap((c) => (['dump.gz', 'preview.gz'] as const).map((file) => [c.name, file, c] as const)))('%s, %s replaced by identical bytes', async (_name, file, which) => {
    const env = which.kind === 'gcs' ? { ...KEY, SYRF_GCS_ENDPOINT: gcsEndpoint() } : KEY;
    const bucket = which.kind === 'gcs' ? await createBucket() : '';
    const url = which.kind === 'gcs' ? `gs://${bucket}` : `file://${work.path}/store-${file}`;
    const id = '2026-08-01';
    const snap = await runCli(['snapshot', '--uri', mongodbUri(), '--db', source, '--to', url, '--id', id, '--anonymize', '--rules', join(work.path, 'rules.yaml')], { env });
    expect(snap.code, snap.stderr).toBe(0);
    expect((await runCli(['verify', id, '--from', url], { env })).code).toBe(0);

    // Same bytes, new version: only the version pin can tell.
    if (which.kind === 'gcs') {
      const object = fakeGcsStorage().bucket(bucket).file(`prod/${id}/${file}`);
      const [bytes] = await object.download();
      await object.save(bytes, { resumable: false });
    } else {
      const path = join(work.path, `store-${file}`, 'prod', id, file);
      await writeFile(`${path}.copy`, await readFile(path));
      await rename(`${path}.copy`, path);
    }

    const verify = await runCli(['verify', id, '--from', url], { env });
    expect(verify.code, verify.stderr).toBe(4);
    expect(verify.stderr).toMatch(new RegExp(`${file.replace('.', '\\.')} was replaced after the manifest was written`));
    expect(verify.stderr).not.toMatch(NO_STACK);

    // Per-PR restores read the preview edition, staging-style (--edition full) the dump.
    const target = `syrf_pr_${pr++}`;
    targets.push(target);
    const restore = await runCli(['restore', '--from', url, '--snapshot', id, '--uri', mongodbUri(), '--target', target, ...(file === 'dump.gz' ? ['--edition', 'full'] : [])], { env });
    expect(restore.code, restore.stderr).toBe(4);
    expect(restore.stderr).toMatch(/was replaced after the manifest was written/);
    expect(restore.stderr).toMatch(/what to do:/);
    expect(restore.stderr).not.toMatch(NO_STACK);
    expect((await client.db(target).listCollections().toArray()).map((c) => c.name)).toEqual([]);
  });
});
