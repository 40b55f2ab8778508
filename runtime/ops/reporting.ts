/**
 * What a staging refresh, a drill or a snapshot reports besides the common
 * job metrics: the gauges the alerts read and the one notification, both
 * built from typed facts only.
 */
import type { Manifest } from '../snapshot/manifest.js';
import type { ExtraGauge } from './metrics.js';
import { reasonOf, type Notification, type Reason } from './notify.js';
import { REFUSAL_REASONS, RefreshRefused, snapshotAgeSeconds } from './staging-refresh.js';
import { DrillMismatch } from './drill.js';

export interface Ended<T> {
  ok: boolean;
  result?: T;
  error?: unknown;
  durationSeconds: number;
}

/** Normalizes runJob's ending. */
export function ended<T>(e: ({ ok: true; result: T } | { ok: false; error: unknown }) & { durationSeconds: number }): Ended<T> {
  return e.ok ? { ok: true, result: e.result, durationSeconds: e.durationSeconds } : { ok: false, error: e.error, durationSeconds: e.durationSeconds };
}

export interface Counts {
  collections: Array<unknown>;
  documents: number;
}

/**
 * Every run into staging, scheduled or manual, sends the refusal gauge
 * (all reasons, 0 or 1), so a later good run clears an earlier refusal.
 */
export function stagingGauges(end: Ended<unknown>, manifest: Manifest | null, startedAt: Date): ExtraGauge[] {
  const refusal = !end.ok && end.error instanceof RefreshRefused ? end.error.reason : null;
  const gauges: ExtraGauge[] = REFUSAL_REASONS.map((reason) => ({
    name: 'syrf_db_staging_refresh_refused',
    help: '1 when the latest staging refresh refused its snapshot for this reason, else 0.',
    labels: { reason },
    value: reason === refusal ? 1 : 0,
  }));
  if (manifest) {
    gauges.push({ name: 'syrf_db_staging_source_age_seconds', help: 'Age of the snapshot the latest staging refresh considered, at its start.', value: snapshotAgeSeconds(manifest, startedAt) });
  }
  if (end.ok) {
    gauges.push({ name: 'syrf_db_staging_last_refresh_timestamp_seconds', help: 'Unix time at which staging was last refreshed successfully.', value: (startedAt.getTime() + end.durationSeconds * 1000) / 1000 });
  }
  return gauges;
}

export function failureReason(error: unknown): Reason {
  if (error instanceof RefreshRefused) return error.reason;
  if (error instanceof DrillMismatch) return 'drill-mismatch';
  return reasonOf(error);
}

export function stagingNotification(
  end: Ended<Counts>,
  facts: { trigger: 'scheduled' | 'manual'; target: string; snapshotId: string | null; manifest: Manifest | null; startedAt: Date },
): Notification {
  const refused = !end.ok && end.error instanceof RefreshRefused;
  return {
    kind: 'staging-refresh',
    outcome: end.ok ? 'success' : refused ? 'refused' : 'failure',
    trigger: facts.trigger,
    target: facts.target,
    snapshotId: facts.snapshotId,
    sourceAgeSeconds: facts.manifest ? snapshotAgeSeconds(facts.manifest, facts.startedAt) : null,
    collections: end.ok && end.result ? end.result.collections.length : null,
    documents: end.ok && end.result ? end.result.documents : null,
    durationSeconds: end.durationSeconds,
    ...(end.ok ? {} : { reason: failureReason(end.error) }),
  };
}
