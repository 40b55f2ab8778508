import type { MongoClient } from 'mongodb';
import { UserError, ExitCode } from '../errors.js';
import type { ArchiveEvent } from '../archive/types.js';
import type { Logger } from '../ops/log.js';
import { throttle } from '../ops/log.js';
import { AlreadyExistsError, type Store } from '../store/store.js';
import { LATEST_KEY, defaultSnapshotId, formatLatest, snapshotKeys, assertSnapshotId } from '../store/layout.js';
import { hostsOf, serverVersion } from '../mongo/connect.js';
import { parseCollectionMetadata } from '../archive/metadata.js';
import { toolVersion } from '../version.js';
import { captureEvents, planCapture } from '../mongo/capture.js';
import { listSnapshots } from './catalog.js';
import { MANIFEST_VERSION, serializeManifest, type Manifest } from './manifest.js';
import type { SigningKey } from './signature.js';
import { emptyTally, tallyEvents, type ArchiveTally } from './tally.js';
import { verifySnapshot } from './verify.js';
import { faultPoint } from '../util/fault.js';
import { writeAddressableArchiveToStore } from './write-addressable.js';
import { writePreviewEdition } from './preview-edition.js';
import type { Rules } from '../anonymize/rules.js';
import type { PreviewEdition, TableOfContents } from './toc.js';

export interface AnonymizationStage {
  /** Rewrites the event stream (pseudonymizes, drops excluded collections, applies limits). */
  transform: (events: AsyncIterable<ArchiveEvent>) => AsyncIterable<ArchiveEvent>;
  rulesSha256: string;
  keyFingerprint: string;
  sizeLimitsApplied: boolean;
  /** How the manifest may name a collection (a name no rule contains can be data): e.g. `<unnamed collection #1>`. */
  publicName?: (collection: string) => string;
}

export interface TakeSnapshotOptions {
  client: MongoClient;
  /** Only for the manifest's host list; credentials are stripped. */
  uri: string;
  db: string;
  store: Store;
  id?: string;
  /** Signs the manifest (Ed25519) so restores can verify what it claims. */
  signingKey?: SigningKey;
  now?: () => Date;
  isExcluded: (collection: string) => boolean;
  anonymization?: AnonymizationStage;
  parallelCollections?: number;
  gzipLevel?: number;
  schemaVersionField?: string;
  /** Writes the size-limited preview edition (preview.gz) with these rules after the full archive. */
  previewRules?: Rules;
  logger: Logger;
}

/**
 * dump → manifest → verify → latest.txt, in that order, so `latest` only
 * ever moves to a snapshot that was read back and matched its manifest.
 */
export async function takeSnapshot(options: TakeSnapshotOptions): Promise<Manifest> {
  const now = options.now ?? (() => new Date());
  const startedAt = now();
  const id = options.id ?? defaultSnapshotId(startedAt);
  assertSnapshotId(id);
  const { store, logger } = options;
  const keys = snapshotKeys(id);

  const plan = await planCapture(options.client, options.db, options.isExcluded);
  const version = await serverVersion(options.client);
  logger.info(`snapshot ${id}: ${plan.collections.length} collections from ${options.db}`, {
    snapshot: id,
    // An anonymizing run names only collections the rules contain (a collection name can be data).
    collections: plan.collections.map((c) => options.anonymization?.publicName?.(c.name) ?? c.name),
    excluded: plan.excluded.map((name) => options.anonymization?.publicName?.(name) ?? name),
  });

  await clearPreviousAttempt(store, id, logger);

  try {
    const parallel = options.parallelCollections ?? 4;
    let events: AsyncIterable<ArchiveEvent> = captureEvents(options.client, plan, {
      serverVersion: version,
      toolVersion,
      parallelCollections: parallel,
    });
    if (options.anonymization) events = options.anonymization.transform(events);
    const tally = emptyTally();
    let current = '';
    const progress = throttle(2000, () => {
      const collection = tally.collections.get(current);
      logger.progress(`snapshot ${id}: ${current} ${collection?.documents ?? 0} documents; total ${tally.documents} documents, ${tally.bytes} bytes`, {
        snapshot: id,
        collection: current,
        collectionDocuments: collection?.documents ?? 0,
        collectionBytes: collection?.bytes ?? 0,
        documents: tally.documents,
        bytes: tally.bytes,
      });
    });
    const counted = tallyEvents(events, tally, {
      ...(options.schemaVersionField ? { schemaVersionField: options.schemaVersionField } : {}),
      onProgress: (collection) => {
        current = collection;
        progress.tick();
      },
    });
    const written = await writeAddressableArchiveToStore(counted, store, keys.dump, { gzipLevel: options.gzipLevel ?? 6 });
    progress.flush();
    const preview = options.previewRules ? await writePreviewEdition(store, id, options.previewRules, { logger, gzipLevel: options.gzipLevel ?? 6 }) : undefined;

    const completedAt = now();
    const manifest = buildManifest({ id, options, version, tally, written, preview, startedAt, completedAt, excluded: plan.excluded, planned: plan.collections.map((c) => c.name) });
    // The archive is read back and checked before the manifest exists: a snapshot whose read-back
    // failed (even when recording the failure fails too) is listed as incomplete, never as complete.
    const check = await verifySnapshot(store, id, manifest);
    if (!check.ok) {
      throw new UserError(`snapshot ${id} failed verification after upload: ${check.problems.join('; ')}`, {
        hint: 'latest.txt was not moved; re-run the snapshot (same id replaces it)',
        exitCode: ExitCode.corrupt,
      });
    }
    faultPoint('snapshot.verified');
    await store.write(keys.manifest, serializeManifest(manifest, options.signingKey), { contentType: 'application/json', ifAbsent: true });
    faultPoint('snapshot.manifest-written');
    await store.write(LATEST_KEY, formatLatest(id), { contentType: 'text/plain' });
    logger.info(`snapshot ${id} complete and verified; ${LATEST_KEY} now points to it`, {
      snapshot: id,
      documents: tally.documents,
      sizeBytes: written.sizeBytes,
      sha256: written.sha256,
    });
    return manifest;
  } catch (error) {
    // The objects under this id belong to the run that wrote first; marking them failed would break it.
    if (!(error instanceof AlreadyExistsError)) await markFailed(store, keys.failed, error, logger);
    throw error;
  }
}

function buildManifest(input: {
  id: string;
  options: TakeSnapshotOptions;
  version: string;
  tally: ArchiveTally;
  written: { sizeBytes: number; sha256: string; toc?: TableOfContents };
  preview?: PreviewEdition | undefined;
  startedAt: Date;
  completedAt: Date;
  excluded: string[];
  planned: string[];
}): Manifest {
  const { tally, options } = input;
  const written = new Set(tally.namespaces.map((n) => n.collection));
  return {
    manifestVersion: MANIFEST_VERSION,
    id: input.id,
    createdAt: input.startedAt.toISOString(),
    completedAt: input.completedAt.toISOString(),
    durationSeconds: (input.completedAt.getTime() - input.startedAt.getTime()) / 1000,
    source: { db: options.db, hosts: hostsOf(options.uri), serverVersion: input.version },
    tool: { name: 'syrf-db-tools', version: toolVersion.replace(/^syrf-db-tools /, '') },
    archive: {
      file: 'dump.gz',
      format: 'mongodump-archive',
      compression: 'gzip',
      sizeBytes: input.written.sizeBytes,
      sha256: input.written.sha256,
      uncompressedBytes: tally.bytes,
      ...(input.written.toc ? { toc: input.written.toc } : {}),
    },
    collections: tally.namespaces.map((ns) => {
      const meta = parseCollectionMetadata(ns.metadata);
      const counts = tally.collections.get(ns.collection);
      return {
        name: ns.collection,
        type: ns.type === 'view' ? 'view' : ns.type === 'timeseries' ? 'timeseries' : 'collection',
        documents: counts?.documents ?? 0,
        bytes: counts?.bytes ?? 0,
        indexes: meta.indexes as Record<string, unknown>[],
        options: meta.options as Record<string, unknown>,
        schemaVersions: [...(counts?.schemaVersions ?? [])],
      };
    }),
    // Collections the anonymizer dropped are as excluded as the ones never read.
    excludedCollections: [
      ...new Set([...input.excluded, ...input.planned.filter((name) => !written.has(name))].map((name) => options.anonymization?.publicName?.(name) ?? name)),
    ].sort(),
    anonymization: options.anonymization
      ? {
          anonymized: true,
          rulesSha256: options.anonymization.rulesSha256,
          keyFingerprint: options.anonymization.keyFingerprint,
          sizeLimitsApplied: options.anonymization.sizeLimitsApplied,
        }
      : { anonymized: false, rulesSha256: null, keyFingerprint: null, sizeLimitsApplied: false },
    ...(input.preview ? { preview: input.preview } : {}),
  };
}

/** A retry with the same id replaces the earlier attempt; `latest` never points at what is being rewritten. */
async function clearPreviousAttempt(store: Store, id: string, logger: Logger): Promise<void> {
  const existing = await store.list(snapshotKeys(id).dir);
  if (existing.length === 0) return;
  const snapshots = await listSnapshots(store);
  const current = snapshots.find((s) => s.id === id);
  if (current?.isLatest) {
    const fallback = snapshots.find((s) => s.id !== id && s.status === 'complete');
    if (fallback) {
      await store.write(LATEST_KEY, formatLatest(fallback.id), { contentType: 'text/plain' });
      logger.warn(`replacing snapshot ${id}, which latest.txt pointed to; latest.txt points to ${fallback.id} until it is done`);
    } else {
      await store.delete(LATEST_KEY);
      logger.warn(`replacing snapshot ${id}, the only complete snapshot; latest.txt is removed until it is done`);
    }
  } else {
    logger.info(`replacing the earlier attempt of snapshot ${id} (${current?.status ?? 'partial'})`);
  }
  for (const object of existing) await store.delete(object.key);
}

async function markFailed(store: Store, key: string, error: unknown, logger: Logger): Promise<void> {
  const message = error instanceof Error ? error.message : String(error);
  try {
    await store.write(key, JSON.stringify({ failedAt: new Date().toISOString(), error: message }, null, 2) + '\n');
  } catch (markError) {
    logger.warn(`could not record the failure in ${store.describe(key)}: ${(markError as Error).message}`);
  }
}
