import type { MongoClient } from 'mongodb';
import { UserError, ExitCode } from '../errors.js';
import type { ArchiveEvent } from '../archive/types.js';
import type { Logger } from '../ops/log.js';
import { throttle } from '../ops/log.js';
import { AlreadyExistsError, ChangedUnderUsError, type Store } from '../store/store.js';
import { claimSnapshotId, releaseClaim } from './attempt.js';
import { LATEST_KEY, defaultSnapshotId, formatLatest, snapshotKeys, assertSnapshotId } from '../store/layout.js';
import { hostsOf, serverVersion } from '../mongo/connect.js';
import { parseCollectionMetadata } from '../archive/metadata.js';
import { toolVersion } from '../version.js';
import { captureEvents, planCapture } from '../mongo/capture.js';
import { MANIFEST_VERSION, serializeManifest, type Manifest } from './manifest.js';
import { checkSigningRequirement, type SigningKey } from './signature.js';
import { emptyTally, tallyEvents, type ArchiveTally } from './tally.js';
import { verifySnapshot } from './verify.js';
import { faultPoint } from '../util/fault.js';
import { PARTS_PREFIX, writeAddressableArchiveToStore } from './write-addressable.js';
import { removeAbandonedTempDirs, removeRunTempDirsSync } from '../util/temp-dirs.js';
import { tmpdir } from 'node:os';
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
  /** Development only: publish an anonymized manifest unsigned instead of refusing. */
  allowUnsigned?: boolean;
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
  // Before the database or the store is touched.
  checkSigningRequirement({ anonymized: options.anonymization !== undefined, signed: options.signingKey !== undefined, allowUnsigned: options.allowUnsigned === true });
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

  // Before anything is written: of two runs with this id, only the claimant goes on.
  const claim = await claimSnapshotId(store, id, logger, now);
  await sweepTemporaries(logger);
  const stopOnSignal = onStopSignal(async (name) => {
    logger.warn(`${name} received: snapshot ${id} stops; its temporary files are removed and it is marked failed, latest.txt is unchanged`);
    removeRunTempDirsSync();
    await markFailed(store, keys.failed, new Error(`stopped by ${name}`), logger);
  });

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
    const preview = options.previewRules ? await writePreviewEdition(store, id, options.previewRules, { dumpGeneration: written.generation, logger, gzipLevel: options.gzipLevel ?? 6 }) : undefined;

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
    await releaseClaim(store, claim);
    logger.info(`snapshot ${id} complete and verified; ${LATEST_KEY} now points to it`, {
      snapshot: id,
      documents: tally.documents,
      sizeBytes: written.sizeBytes,
      sha256: written.sha256,
    });
    return manifest;
  } catch (error) {
    // The objects under this id belong to the run that wrote first; marking them failed would break it.
    if (error instanceof AlreadyExistsError || error instanceof ChangedUnderUsError) await releaseClaim(store, claim);
    else await markFailed(store, keys.failed, error, logger);
    throw error;
  } finally {
    stopOnSignal.dispose();
  }
}

/** Directories of the snapshot path that carry no pid in their name: only ones no run touched for a day go. */
const UNNAMED_TEMPORARIES = ['syrf-anonymize-', 'syrf-order-'];

async function sweepTemporaries(logger: Logger): Promise<void> {
  await removeAbandonedTempDirs(tmpdir(), PARTS_PREFIX, logger, 'snapshot part files');
  for (const prefix of UNNAMED_TEMPORARIES) await removeAbandonedTempDirs(tmpdir(), prefix, logger, 'spool files');
}

/**
 * SIGTERM (Kubernetes' first word) and SIGINT: clean up, mark the attempt failed so the Job's
 * retry may replace it at once, and exit non-zero; bounded, so a stuck store cannot keep the pod.
 */
function onStopSignal(cleanup: (name: NodeJS.Signals) => Promise<void>): { dispose(): void } {
  const handler = (name: NodeJS.Signals) => {
    const exit = () => process.exit(128 + (name === 'SIGINT' ? 2 : 15));
    setTimeout(exit, 10_000).unref();
    cleanup(name).then(exit, exit);
  };
  for (const name of ['SIGTERM', 'SIGINT'] as const) process.once(name, handler);
  return {
    dispose() {
      for (const name of ['SIGTERM', 'SIGINT'] as const) process.off(name, handler);
    },
  };
}

function buildManifest(input: {
  id: string;
  options: TakeSnapshotOptions;
  version: string;
  tally: ArchiveTally;
  written: { sizeBytes: number; sha256: string; toc?: TableOfContents; generation: string };
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
      generation: input.written.generation,
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

async function markFailed(store: Store, key: string, error: unknown, logger: Logger): Promise<void> {
  const message = error instanceof Error ? error.message : String(error);
  try {
    await store.write(key, JSON.stringify({ failedAt: new Date().toISOString(), error: message }, null, 2) + '\n');
  } catch (markError) {
    logger.warn(`could not record the failure in ${store.describe(key)}: ${(markError as Error).message}`);
  }
}
