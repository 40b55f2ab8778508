/**
 * The restore drill: proves a snapshot can actually be restored, not merely
 * that it was written. It restores the snapshot through the ordinary restore
 * path (guard, lock, checksum, swap) into the scratch database `syrf_drill`,
 * checks every collection's count and a spread sample of documents against
 * the snapshot itself, and always drops the scratch database afterwards.
 *
 * When the drilled snapshot is the one `latest` names and the drill fails,
 * `latest` is moved back to the newest earlier snapshot that verifies and is
 * anonymized, so previews and staging stop restoring data nobody could
 * restore. With no such snapshot `latest` is left alone and the alert says so.
 */
import type { MongoClient } from 'mongodb';
import { EJSON, deserialize } from 'bson';
import { ExitCode, UserError, isUserError } from '../errors.js';
import { openArchive } from '../archive/reader.js';
import { checkRestoreTarget } from '../restore/guard.js';
import { restoreSnapshot } from '../restore/restore.js';
import { listSnapshots, loadManifest, resolveSnapshotId } from '../snapshot/catalog.js';
import type { Manifest } from '../snapshot/manifest.js';
import { verifySnapshot } from '../snapshot/verify.js';
import { LATEST_KEY, formatLatest, parseLatest, snapshotKeys } from '../store/layout.js';
import type { Store } from '../store/store.js';
import type { Logger } from './log.js';

export const DRILL_DB = 'syrf_drill';
/** The only target a drill may write; production names stay refused by the guard whatever this says. */
export const DRILL_ALLOWLIST: readonly RegExp[] = [/^syrf_drill$/];

export interface DrillOptions {
  store: Store;
  snapshot: string;
  client: MongoClient;
  /** Documents compared per collection (spread evenly over the collection). */
  samplePerCollection: number;
  /** Move `latest` back when the drilled snapshot is `latest` and fails. */
  demote: boolean;
  workDir?: string;
  holder: string;
  logger: Logger;
}

export interface DrillReport {
  snapshotId: string;
  manifest: Manifest;
  collections: number;
  documents: number;
  sampled: number;
  bytes: number;
}

export interface DrillFailureContext {
  snapshotId: string | null;
  manifest: Manifest | null;
  /** Set when a demotion was attempted: the id `latest` names now, or null when it was left alone. */
  latestNow?: string | null;
}

/** Thrown for a drill whose restored data disagrees with the snapshot. */
export class DrillMismatch extends UserError {
  constructor(problems: string[]) {
    super(`restore drill found ${problems.length} problem(s): ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? '; …' : ''}`, {
      hint: 'the snapshot is not restorable as written; see docs/runbook.md#syrfdbdrillfailed',
      exitCode: ExitCode.corrupt,
    });
    this.name = 'DrillMismatch';
  }
}

/**
 * Runs the drill; on failure fills `context` (snapshot, demotion) before
 * rethrowing, so the caller can report what happened without parsing errors.
 */
export async function runDrill(options: DrillOptions, context: DrillFailureContext): Promise<DrillReport> {
  const { store, client, logger } = options;
  const id = await resolveSnapshotId(store, options.snapshot);
  context.snapshotId = id;
  try {
    const manifest = await loadManifest(store, id);
    context.manifest = manifest;
    // The guard runs before the first write of the drill, the clean-up drop included.
    checkRestoreTarget({ target: DRILL_DB, sourceDb: manifest.source.db, allowlist: DRILL_ALLOWLIST });
    const db = client.db(DRILL_DB);
    try {
      // A drill killed earlier may have left its scratch data behind.
      await db.dropDatabase();
      const restored = await restoreSnapshot({
        store,
        snapshot: id,
        client,
        target: DRILL_DB,
        guard: { allowlist: [...DRILL_ALLOWLIST] },
        holder: options.holder,
        logger,
        ...(options.workDir ? { workDir: options.workDir } : {}),
      });
      const problems = await countProblems(client, manifest);
      const sample = await sampleProblems(store, client, manifest, options.samplePerCollection);
      problems.push(...sample.problems);
      if (problems.length > 0) throw new DrillMismatch(problems);
      logger.info(`drill ${id}: ${restored.documents} documents restored, counts match, ${sample.compared} sampled documents identical`, { snapshot: id });
      return { snapshotId: id, manifest, collections: manifest.collections.length, documents: restored.documents, sampled: sample.compared, bytes: restored.bytes };
    } finally {
      await db.dropDatabase().catch((error: unknown) => logger.warn(`could not drop ${DRILL_DB}: ${error instanceof Error ? error.message : String(error)}`));
    }
  } catch (error) {
    // Only the snapshot's own fault moves `latest`; an unreachable drill database says nothing about the snapshot.
    if (options.demote && isSnapshotFault(error)) context.latestNow = await demoteIfLatest(store, id, logger);
    throw error;
  }
}

/** Corrupt data, a checksum or count mismatch, a damaged manifest: the snapshot itself is bad. */
export function isSnapshotFault(error: unknown): boolean {
  return isUserError(error) && error.exitCode === ExitCode.corrupt;
}

async function countProblems(client: MongoClient, manifest: Manifest): Promise<string[]> {
  const db = client.db(DRILL_DB);
  const problems: string[] = [];
  for (const entry of manifest.collections) {
    if (entry.type === 'view') continue;
    const counted = await db.collection(entry.name).countDocuments({});
    if (counted !== entry.documents) problems.push(`${entry.name}: ${counted} documents restored, the manifest says ${entry.documents}`);
  }
  return problems;
}

/**
 * Reads the archive again and compares every k-th document of each
 * collection (k spreading the sample over the whole collection) with the
 * restored one, found by `_id`. The comparison is on canonical Extended
 * JSON, so types (Int32 vs Double, legacy UUID subtypes) must match too.
 * Problems name collections and positions only, never document values.
 */
async function sampleProblems(store: Store, client: MongoClient, manifest: Manifest, perCollection: number): Promise<{ compared: number; problems: string[] }> {
  if (perCollection <= 0) return { compared: 0, problems: [] };
  const strideOf = new Map(manifest.collections.map((c) => [c.name, Math.max(1, Math.floor(c.documents / perCollection))]));
  const seen = new Map<string, number>();
  const taken = new Map<string, number>();
  const problems: string[] = [];
  let compared = 0;
  const db = client.db(DRILL_DB);
  for await (const event of openArchive(await store.read(snapshotKeys(manifest.id).dump, manifest.archive.generation ? { generation: manifest.archive.generation } : {}))) {
    if (event.type !== 'segment' || event.db === '' || !strideOf.has(event.collection)) continue;
    const stride = strideOf.get(event.collection)!;
    for (const raw of event.documents) {
      const position = seen.get(event.collection) ?? 0;
      seen.set(event.collection, position + 1);
      if (position % stride !== 0 || (taken.get(event.collection) ?? 0) >= perCollection) continue;
      taken.set(event.collection, (taken.get(event.collection) ?? 0) + 1);
      const original = deserialize(raw, { promoteValues: false, promoteBuffers: false, bsonRegExp: true });
      if (!('_id' in original)) continue;
      const restored = await db.collection(event.collection).findOne({ _id: original['_id'] }, { promoteValues: false, promoteBuffers: false, bsonRegExp: true });
      compared += 1;
      if (!restored) problems.push(`${event.collection}: document #${position} of the archive is missing after the restore`);
      else if (EJSON.stringify(restored, { relaxed: false }) !== EJSON.stringify(original, { relaxed: false })) {
        problems.push(`${event.collection}: document #${position} differs after the restore`);
      }
    }
  }
  return { compared, problems };
}

/**
 * Points `latest` at the newest earlier snapshot that is complete,
 * anonymized and passes verification, but only while `latest` still names
 * the failed one (a newer snapshot may have been promoted meanwhile).
 * Returns what `latest` names afterwards, or null when it was left alone.
 */
export async function demoteIfLatest(store: Store, failedId: string, logger: Logger): Promise<string | null> {
  try {
    if (!(await store.stat(LATEST_KEY))) return null;
    const current = parseLatest(await store.readText(LATEST_KEY));
    if (current !== failedId) return current;
    const candidates = (await listSnapshots(store)).filter((s) => s.status === 'complete' && s.id < failedId && s.manifest?.anonymization.anonymized);
    for (const candidate of candidates) {
      const result = await verifySnapshot(store, candidate.id, candidate.manifest!);
      if (!result.ok) {
        logger.warn(`not demoting to ${candidate.id}: it fails verification`, { snapshot: candidate.id });
        continue;
      }
      await store.write(LATEST_KEY, formatLatest(candidate.id), { contentType: 'text/plain' });
      logger.warn(`latest demoted from ${failedId} to ${candidate.id} after the failed drill`, { snapshot: failedId, latest: candidate.id });
      return candidate.id;
    }
    logger.error(`latest still names ${failedId}: no earlier snapshot verifies`, { snapshot: failedId });
    return null;
  } catch (error) {
    logger.error(`could not demote latest: ${error instanceof Error ? error.message : String(error)}`);
    return null;
  }
}
