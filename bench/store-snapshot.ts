/**
 * Publishes an archive file as a complete snapshot in a file:// store
 * (dump.gz + manifest.json + latest.txt), so `restore` can read archives
 * the bench generated without a server, such as the 4× one.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { openArchive } from '../runtime/archive/reader.js';
import { parseCollectionMetadata } from '../runtime/archive/metadata.js';
import { sha256OfStream } from '../runtime/util/hashing-stream.js';
import { FileStore } from '../runtime/store/file-store.js';
import { LATEST_KEY, formatLatest, snapshotKeys } from '../runtime/store/layout.js';
import { MANIFEST_VERSION, serializeManifest, type Manifest } from '../runtime/snapshot/manifest.js';
import { emptyTally, tallyEvents } from '../runtime/snapshot/tally.js';
import { BENCH_SERVER_VERSION } from './archive-file.js';

export interface Anonymization {
  rulesSha256: string;
  keyFingerprint: string;
}

/** `anonymization: null` publishes a raw snapshot (a restore must anonymize it with the key). */
export async function publishArchive(archive: string, storeDir: string, id: string, anonymization: Anonymization | null): Promise<Manifest> {
  const store = new FileStore(storeDir);
  const tally = emptyTally();
  for await (const event of tallyEvents(openArchive(createReadStream(archive)), tally)) void event;
  const { sha256 } = await sha256OfStream(createReadStream(archive));
  const now = new Date().toISOString();
  const manifest: Manifest = {
    manifestVersion: MANIFEST_VERSION,
    id,
    createdAt: now,
    completedAt: now,
    durationSeconds: 0,
    source: { db: tally.namespaces[0]?.db ?? 'syrf_bench', hosts: [], serverVersion: BENCH_SERVER_VERSION },
    tool: { name: 'syrf-db-tools', version: 'bench' },
    archive: { file: 'dump.gz', format: 'mongodump-archive', compression: 'gzip', sizeBytes: (await stat(archive)).size, sha256, uncompressedBytes: tally.bytes },
    collections: tally.namespaces.map((ns) => {
      const meta = parseCollectionMetadata(ns.metadata);
      const counts = tally.collections.get(ns.collection);
      return {
        name: ns.collection,
        type: 'collection' as const,
        documents: counts?.documents ?? 0,
        bytes: counts?.bytes ?? 0,
        indexes: meta.indexes as Record<string, unknown>[],
        options: meta.options as Record<string, unknown>,
        schemaVersions: [],
      };
    }),
    excludedCollections: [],
    anonymization: anonymization
      ? { anonymized: true, rulesSha256: anonymization.rulesSha256, keyFingerprint: anonymization.keyFingerprint, sizeLimitsApplied: false }
      : { anonymized: false, rulesSha256: null, keyFingerprint: null, sizeLimitsApplied: false },
  };
  const keys = snapshotKeys(id);
  await store.write(keys.dump, createReadStream(archive));
  await store.write(keys.manifest, serializeManifest(manifest));
  await store.write(LATEST_KEY, formatLatest(id));
  return manifest;
}
