/**
 * Writes a snapshot (gzip archive + manifest) into a file:// store directory
 * without a database, so tests can hand `verify`, `show` and `restore`
 * archives and manifests nobody's pipeline would produce.
 */
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { BSON, type Document } from 'bson';
import { ArchiveWriter } from '../../runtime/archive/writer.js';
import { buildCollectionMetadata } from '../../runtime/archive/metadata.js';
import { MANIFEST_VERSION, serializeManifest, type Manifest } from '../../runtime/snapshot/manifest.js';
import { MemorySink } from '../unit/archive/helpers.js';

export const SOURCE_DB = 'syrftest';

/** An uncompressed archive of `collections` (raw BSON documents, written as given). */
export async function archiveOf(collections: Record<string, Array<Buffer | Document>>): Promise<Buffer> {
  const sink = new MemorySink();
  const writer = new ArchiveWriter(sink);
  const names = Object.keys(collections);
  await writer.writePrelude(
    { concurrentCollections: 1, version: '0.1', serverVersion: '7.0.12', toolVersion: 'test' },
    names.map((name) => ({
      db: SOURCE_DB,
      collection: name,
      metadata: buildCollectionMetadata({ collectionName: name, indexes: [{ v: 2, key: { _id: 1 }, name: '_id_' }] }),
      size: 0,
      type: 'collection',
    })),
  );
  for (const name of names) {
    const docs = collections[name]!.map((d) => (Buffer.isBuffer(d) ? d : Buffer.from(BSON.serialize(d))));
    await writer.writeSegment(SOURCE_DB, name, docs);
    await writer.writeEof(SOURCE_DB, name);
  }
  await writer.end();
  return sink.bytes;
}

export function manifestFor(id: string, gz: Buffer, uncompressed: Buffer, counts: Record<string, number>, anonymized: boolean): Manifest {
  return {
    manifestVersion: MANIFEST_VERSION,
    id,
    createdAt: '2026-01-09T02:00:00.000Z',
    completedAt: '2026-01-09T02:00:01.000Z',
    durationSeconds: 1,
    source: { db: SOURCE_DB, hosts: ['db.example:27017'], serverVersion: '7.0.12' },
    tool: { name: 'syrf-db-tools', version: 'test' },
    archive: {
      file: 'dump.gz',
      format: 'mongodump-archive',
      compression: 'gzip',
      sizeBytes: gz.length,
      sha256: createHash('sha256').update(gz).digest('hex'),
      uncompressedBytes: uncompressed.length,
    },
    collections: Object.entries(counts).map(([name, documents]) => ({
      name,
      type: 'collection' as const,
      documents,
      bytes: 0,
      indexes: [{ v: 2, key: { _id: 1 }, name: '_id_' }],
      options: {},
      schemaVersions: [],
    })),
    excludedCollections: [],
    anonymization: anonymized
      ? { anonymized: true, rulesSha256: 'a'.repeat(64), keyFingerprint: 'f'.repeat(16), sizeLimitsApplied: false }
      : { anonymized: false, rulesSha256: null, keyFingerprint: null, sizeLimitsApplied: false },
  };
}

export interface StoredSnapshot {
  storeUrl: string;
  dir: string;
  manifest: Manifest;
  manifestPath: string;
}

/** Stores `collections` as snapshot `id` in the file store at `root`, with `latest.txt` pointing to it. */
export async function storeSnapshot(
  root: string,
  id: string,
  collections: Record<string, Array<Buffer | Document>>,
  options: { anonymized?: boolean; manifestText?: (m: Manifest) => string; archive?: Buffer } = {},
): Promise<StoredSnapshot> {
  const raw = options.archive ?? (await archiveOf(collections));
  const gz = gzipSync(raw);
  const counts = Object.fromEntries(Object.entries(collections).map(([name, docs]) => [name, docs.length]));
  const manifest = manifestFor(id, gz, raw, counts, options.anonymized ?? true);
  const dir = join(root, 'prod', id);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'dump.gz'), gz);
  const manifestPath = join(dir, 'manifest.json');
  await writeFile(manifestPath, options.manifestText ? options.manifestText(manifest) : serializeManifest(manifest));
  await writeFile(join(root, 'prod', 'latest.txt'), `${id}\n`);
  return { storeUrl: `file://${root}`, dir, manifest, manifestPath };
}

/** The document's bytes with the first occurrence of `marker` (ASCII) replaced by `bytes` of the same length. */
export function patchBytes(document: Buffer, marker: string, bytes: number[]): Buffer {
  const at = document.indexOf(Buffer.from(marker, 'latin1'));
  if (at < 0 || marker.length !== bytes.length) throw new Error(`marker ${marker} not found or lengths differ`);
  const copy = Buffer.from(document);
  Buffer.from(bytes).copy(copy, at);
  return copy;
}
