/**
 * Collection-addressable snapshots end to end, through FerretDB and
 * fake-gcs-server: a per-PR restore reads only the prelude and the ranges of
 * the collections it loads, a damaged range is refused naming its
 * collection, snapshots from before tables of contents still restore, and
 * `verify` holds the table of contents to the file.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import yaml from 'js-yaml';
import type { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openArchive } from '../../runtime/archive/reader.js';
import { silentLogger } from '../../runtime/ops/log.js';
import { restoreSnapshot } from '../../runtime/restore/restore.js';
import { loadManifest } from '../../runtime/snapshot/catalog.js';
import { serializeManifest, type Manifest } from '../../runtime/snapshot/manifest.js';
import { partsOf } from '../../runtime/snapshot/toc.js';
import { writeArchiveToStore } from '../../runtime/snapshot/write-archive.js';
import { FileStore } from '../../runtime/store/file-store.js';
import { LATEST_KEY, formatLatest, snapshotKeys } from '../../runtime/store/layout.js';
import { openStore } from '../../runtime/store/open.js';
import type { Store } from '../../runtime/store/store.js';
import { repoRoot, runCli } from '../support/cli.js';
import { CountingStore } from '../support/counting-store.js';
import { seedDataset } from '../support/dataset.js';
import { connectMongo, createBucket, fakeGcsStorage, gcsEndpoint, mongodbUri, tempDir, uniqueDbName } from '../support/servers.js';

const KEY = { SYRF_ANONYMIZATION_KEY: 'n7Rk2Qx9LvB4mT8wZ1cY6pH3dF5gJ0sAq8Ue2Xi7oW4tN9bK3yV6zM1rC5aE0hG' };
const ID = '2026-02-01';
const prDb = () => `syrf_pr_${Math.floor(Math.random() * 1e9)}`;

/** Copies a snapshot's objects to another store, optionally changing the bytes of one. */
async function copySnapshot(from: Store, to: Store, change: { file?: string; bytes?: (b: Buffer) => Buffer; manifest?: (m: Manifest) => Manifest } = {}): Promise<void> {
  const keys = snapshotKeys(ID);
  // Objects first, the manifest last, naming the versions this store gave them (as the producer does).
  const generations = new Map<string, string>();
  let manifestBody: Buffer | null = null;
  for (const object of await from.list(keys.dir)) {
    const chunks: Buffer[] = [];
    for await (const chunk of await from.read(object.key)) chunks.push(chunk as Buffer);
    let body: Buffer = Buffer.concat(chunks);
    if (object.key === keys.manifest) {
      manifestBody = body;
      continue;
    }
    if (change.file && object.key.endsWith(`/${change.file}`) && change.bytes) body = change.bytes(body);
    generations.set(object.key.slice(object.key.lastIndexOf('/') + 1), (await to.write(object.key, body)).generation);
  }
  let copied = JSON.parse(manifestBody!.toString('utf8')) as Manifest;
  if (copied.archive.generation !== undefined) copied = { ...copied, archive: { ...copied.archive, generation: generations.get('dump.gz')! } };
  if (copied.preview?.generation !== undefined) copied = { ...copied, preview: { ...copied.preview, generation: generations.get('preview.gz')! } };
  if (change.manifest) copied = change.manifest(copied);
  await to.write(keys.manifest, serializeManifest(copied));
  await to.write(LATEST_KEY, formatLatest(ID));
}

describe('collection-addressable snapshots through FerretDB and fake-gcs-server', () => {
  let client: MongoClient;
  let source: string;
  let url: string;
  let manifest: Manifest;
  const dir = tempDir();
  const rulesFile = () => join(dir.path, 'rules.yaml');
  const targets: string[] = [];
  const env = { ...KEY, SYRF_GCS_ENDPOINT: gcsEndpoint() };
  const gcs = () => openStore(url, { gcsEndpoint: gcsEndpoint() });

  beforeAll(async () => {
    client = await connectMongo();
    source = uniqueDbName('syrfsrc_');
    await seedDataset(client.db(source), { studies: 500 });
    const rules = yaml.load(await readFile(join(repoRoot, 'rules/anonymization-rules.yaml'), 'utf8')) as { size_limits: Record<string, { max_documents?: number }> };
    rules.size_limits.pmProject = { max_documents: 3 };
    await writeFile(rulesFile(), yaml.dump(rules));
    url = `gs://${await createBucket()}/snapshots`;
    const snapshot = await runCli(['snapshot', '--uri', mongodbUri(), '--db', source, '--to', url, '--id', ID, '--anonymize', '--rules', rulesFile()], { env });
    expect(snapshot.code, snapshot.stderr).toBe(0);
    manifest = await loadManifest(gcs(), ID);
  });

  afterAll(async () => {
    for (const name of [source, ...targets]) await client.db(name).dropDatabase();
    await client.close();
    dir.remove();
  });

  it('stores both archives without Content-Encoding, so ranged reads return the stored gzip bytes', async () => {
    const bucket = fakeGcsStorage().bucket(url.slice('gs://'.length).split('/')[0]!);
    for (const file of ['dump.gz', 'preview.gz']) {
      const [metadata] = await bucket.file(`snapshots/prod/${ID}/${file}`).getMetadata();
      expect(metadata.contentEncoding ?? '', file).toBe('');
    }
  });

  it('writes a table of contents for dump.gz and a smaller preview edition with its own', () => {
    expect(manifest.archive.toc?.collections.map((c) => c.collection).sort()).toEqual(manifest.collections.map((c) => c.name).sort());
    expect(manifest.preview).toBeDefined();
    expect(manifest.preview!.sizeBytes).toBeLessThan(manifest.archive.sizeBytes);
    expect(manifest.preview!.collections.find((c) => c.name === 'pmProject')?.documents).toBe(3);
  });

  it('a PR restore of pmProject,pmStudy reads only the prelude and those two ranges of preview.gz', async () => {
    const store = new CountingStore(gcs());
    const target = prDb();
    targets.push(target);
    const result = await restoreSnapshot({ store, snapshot: 'latest', client, target, collections: ['pmProject', 'pmStudy'], holder: 'e2e', logger: silentLogger });
    expect(result.edition).toBe('preview');

    const toc = manifest.preview!.toc;
    const needed = toc.prelude.length + [...partsOf(toc, 'pmProject'), ...partsOf(toc, 'pmStudy')].reduce((sum, p) => sum + p.length, 0);
    expect(store.bytesServed).toBe(needed);
    expect(result.bytesRead).toBe(needed);
    expect(store.bytesServed).toBeLessThan(manifest.preview!.sizeBytes);
    // Nothing was read whole, and nothing of dump.gz at all.
    expect(store.reads.length).toBeGreaterThan(0);
    expect(store.reads.every((r) => r.key.endsWith('/preview.gz') && r.start !== undefined)).toBe(true);

    const db = client.db(target);
    const projects = await db.collection('pmProject').find().toArray();
    const studies = await db.collection('pmStudy').find().toArray();
    expect(projects).toHaveLength(3);
    expect(studies.length).toBe(manifest.preview!.collections.find((c) => c.name === 'pmStudy')!.documents);
    expect(studies.length).toBeGreaterThan(0);
    // Referential subsetting happened at capture: every study belongs to a kept project.
    const kept = new Set(projects.map((p) => JSON.stringify(p._id)));
    expect(studies.every((s) => kept.has(JSON.stringify(s.ProjectId)))).toBe(true);
    expect((await db.listCollections().toArray()).map((c) => c.name).filter((n) => !n.startsWith('_syrf')).sort()).toEqual(['pmProject', 'pmStudy']);
  });

  it('refuses a corrupted range, naming the collection, and leaves the target untouched', async () => {
    const copy = tempDir();
    try {
      const pmStudy = partsOf(manifest.preview!.toc, 'pmStudy')[0]!;
      await copySnapshot(gcs(), new FileStore(copy.path), {
        file: 'preview.gz',
        bytes: (b) => {
          b[pmStudy.offset + Math.floor(pmStudy.length / 2)]! ^= 0x01;
          return b;
        },
      });
      const target = prDb();
      const result = await runCli(['restore', '--from', `file://${copy.path}`, '--uri', mongodbUri(), '--target', target]);
      expect(result.code, result.stderr).toBe(4);
      expect(result.stderr).toMatch(/^error: snapshot 2026-02-01 \(preview\.gz\): collection pmStudy does not match its manifest: sha256/m);
      expect(await client.db(target).listCollections().toArray()).toEqual([]);
      // Collections whose ranges are intact still restore from the same file.
      const other = prDb();
      targets.push(other);
      const intact = await runCli(['restore', '--from', `file://${copy.path}`, '--uri', mongodbUri(), '--target', other, '--collections', 'pmProject,pmInvestigator']);
      expect(intact.code, intact.stderr).toBe(0);
      // verify names the damage too.
      const verify = await runCli(['verify', ID, '--from', `file://${copy.path}`]);
      expect(verify.code).toBe(4);
      expect(verify.stderr).toMatch(/preview edition table of contents: collection pmStudy \(bytes \d+–\d+\) has sha256/);
    } finally {
      copy.remove();
    }
  });

  it('restores a snapshot from before tables of contents (one gzip stream, no preview) through the whole-file path', async () => {
    const copy = tempDir();
    try {
      const old = new FileStore(copy.path);
      const keys = snapshotKeys(ID);
      const written = await writeArchiveToStore(openArchive(await gcs().read(keys.dump)), old, keys.dump);
      // Manifests of that time named no object version either.
      const { toc: _toc, generation: _generation, ...archive } = manifest.archive;
      const { preview: _preview, ...rest } = manifest;
      await old.write(keys.manifest, serializeManifest({ ...rest, archive: { ...archive, sizeBytes: written.sizeBytes, sha256: written.sha256 } }));
      await old.write(LATEST_KEY, formatLatest(ID));

      expect((await runCli(['verify', ID, '--from', `file://${copy.path}`])).code).toBe(0);
      const target = prDb();
      targets.push(target);
      const result = await runCli(['restore', '--from', `file://${copy.path}`, '--uri', mongodbUri(), '--target', target, '--rules', rulesFile()]);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toMatch(/has no preview edition; reading the full archive/);
      expect(await client.db(target).collection('pmProject').countDocuments()).toBe(3);
      // Asking for the preview edition explicitly is a clear refusal.
      const explicit = await runCli(['restore', '--from', `file://${copy.path}`, '--uri', mongodbUri(), '--target', prDb(), '--edition', 'preview']);
      expect(explicit.code).toBe(2);
      expect(explicit.stderr).toMatch(/has no preview edition[\s\S]*what to do: restore it with `--edition full`/);
    } finally {
      copy.remove();
    }
  });

  it('verify holds the table of contents to the file: a wrong entry is reported', async () => {
    expect((await runCli(['verify', ID, '--from', url], { env })).code).toBe(0);
    const copy = tempDir();
    try {
      await copySnapshot(gcs(), new FileStore(copy.path), {
        manifest: (m) => {
          const toc = m.archive.toc!;
          const [first, second] = toc.collections;
          // Two neighbours' lengths traded: the layout still adds up, the hashes no longer match.
          return { ...m, archive: { ...m.archive, toc: { ...toc, collections: [{ ...first!, length: second!.length }, { ...second!, offset: first!.offset + second!.length, length: first!.length }, ...toc.collections.slice(2)] } } };
        },
      });
      const verify = await runCli(['verify', ID, '--from', `file://${copy.path}`]);
      expect(verify.code).toBe(4);
      expect(verify.stderr).toMatch(/table of contents: collection \S+ \(bytes \d+–\d+\) has sha256/);
    } finally {
      copy.remove();
    }
  });
});
