/**
 * The scheduled staging refresh: `syrf_staging` from the latest snapshot,
 * but only when that snapshot is anonymized, recent enough and verifies.
 * The restore itself is the ordinary one (guard with its confirmation word,
 * lock, checksum, atomic swap), so a scheduled refresh can do nothing a
 * manual one cannot.
 */
import type { MongoClient } from 'mongodb';
import { ExitCode, UserError } from '../errors.js';
import { STAGING_DB } from '../restore/guard.js';
import { restoreSnapshot, type RestoreResult } from '../restore/restore.js';
import { loadManifest, resolveSnapshotId } from '../snapshot/catalog.js';
import type { Manifest } from '../snapshot/manifest.js';
import { verifySnapshot } from '../snapshot/verify.js';
import type { Store } from '../store/store.js';
import type { Logger } from './log.js';
import type { Reason } from './notify.js';

export type RefusalReason = Extract<Reason, 'stale-snapshot' | 'unverified-snapshot' | 'not-anonymized'>;
export const REFUSAL_REASONS: readonly RefusalReason[] = ['stale-snapshot', 'unverified-snapshot', 'not-anonymized'];

/** A refusal the scheduled refresh makes before touching staging; the reason drives metric, alert and message. */
export class RefreshRefused extends UserError {
  constructor(
    readonly reason: RefusalReason,
    message: string,
    hint: string,
  ) {
    super(message, { hint, exitCode: ExitCode.refused });
    this.name = 'RefreshRefused';
  }
}

/** Seconds between the snapshot's completion and `now`. */
export function snapshotAgeSeconds(manifest: Manifest, now: Date): number {
  return Math.max(0, (now.getTime() - Date.parse(manifest.completedAt)) / 1000);
}

/** Pure: may this snapshot feed a scheduled refresh? Throws RefreshRefused when not. */
export function checkFreshness(manifest: Manifest, now: Date, maxAgeHours: number): void {
  if (!manifest.anonymization.anonymized) {
    throw new RefreshRefused('not-anonymized', `snapshot ${manifest.id} is not anonymized; staging was not touched`, 'only anonymized snapshots may reach staging; check the producer (docs/runbook.md#syrfdbstagingrefreshrefused)');
  }
  const ageHours = snapshotAgeSeconds(manifest, now) / 3600;
  if (!(ageHours <= maxAgeHours)) {
    throw new RefreshRefused(
      'stale-snapshot',
      `the latest snapshot ${manifest.id} is ${ageHours.toFixed(1)} hours old, more than the allowed ${maxAgeHours}; staging was not touched`,
      'find out why no newer snapshot exists (docs/runbook.md#syrfdbstagingrefreshrefused), or refresh by hand with the workflow if stale data is acceptable',
    );
  }
}

export interface ScheduledRefreshOptions {
  store: Store;
  client: MongoClient;
  confirm?: string;
  maxAgeHours: number;
  now: Date;
  workDir?: string;
  holder: string;
  logger: Logger;
  /** Filled in as soon as the snapshot is known, so a refusal can still be reported with it. */
  seen: { snapshotId: string | null; manifest: Manifest | null };
}

export async function scheduledStagingRefresh(options: ScheduledRefreshOptions): Promise<RestoreResult> {
  const { store, logger } = options;
  const id = await resolveSnapshotId(store, 'latest');
  options.seen.snapshotId = id;
  const manifest = await loadManifest(store, id);
  options.seen.manifest = manifest;
  checkFreshness(manifest, options.now, options.maxAgeHours);
  const verified = await verifySnapshot(store, id, manifest);
  if (!verified.ok) {
    throw new RefreshRefused(
      'unverified-snapshot',
      `the latest snapshot ${id} failed verification (${verified.problems.length} problem(s)); staging was not touched`,
      `run \`syrf-db verify ${id}\` and follow docs/runbook.md#syrfdbstagingrefreshrefused`,
    );
  }
  logger.info(`scheduled refresh: snapshot ${id} verified, restoring into ${STAGING_DB}`, { snapshot: id });
  return restoreSnapshot({
    store,
    snapshot: id,
    client: options.client,
    target: STAGING_DB,
    ...(options.confirm ? { confirm: options.confirm } : {}),
    ...(options.workDir ? { workDir: options.workDir } : {}),
    holder: options.holder,
    logger,
  });
}
