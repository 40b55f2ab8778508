import { UserError } from '../errors.js';

/**
 * Where a snapshot's objects live in a store. The layout is shared by the
 * producer, the restorers and the IAM conditions in infra/, so it lives in
 * one place.
 */
import { DUMP_FILE, LATEST_KEY, MANIFEST_FILE, SNAPSHOT_ID_PATTERN as SNAPSHOT_ID, SNAPSHOT_ROOT } from '../contract/snapshots.js';

export { DUMP_FILE, LATEST_KEY, MANIFEST_FILE, SNAPSHOT_ROOT };
export const FAILED_FILE = 'FAILED.json';

export interface SnapshotKeys {
  dir: string;
  dump: string;
  manifest: string;
  failed: string;
}

export function snapshotKeys(id: string): SnapshotKeys {
  assertSnapshotId(id);
  const dir = `${SNAPSHOT_ROOT}/${id}/`;
  return { dir, dump: dir + DUMP_FILE, manifest: dir + MANIFEST_FILE, failed: dir + FAILED_FILE };
}

export function isSnapshotId(id: string): boolean {
  const match = SNAPSHOT_ID.exec(id);
  if (!match) return false;
  const date = new Date(`${match[1]}-${match[2]}-${match[3]}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().startsWith(`${match[1]}-${match[2]}-${match[3]}`);
}

export function assertSnapshotId(id: string): void {
  if (!isSnapshotId(id)) {
    throw new UserError(`"${id}" is not a snapshot id`, {
      hint: 'snapshot ids look like 2026-01-09 or 2026-01-09-label (lowercase letters, digits, dashes); use `latest` for the newest',
      exitCode: 2,
    });
  }
}

/** The calendar day a snapshot id names (UTC). */
export function snapshotDate(id: string): Date {
  assertSnapshotId(id);
  return new Date(`${id.slice(0, 10)}T00:00:00Z`);
}

/** The default id for a snapshot taken at `now`: its UTC date. */
export function defaultSnapshotId(now: Date): string {
  return now.toISOString().slice(0, 10);
}

/** The snapshot id a key belongs to, or null for keys outside any snapshot. */
export function snapshotIdOfKey(key: string): string | null {
  const match = new RegExp(`^${SNAPSHOT_ROOT}/([^/]+)/`).exec(key);
  return match?.[1] && isSnapshotId(match[1]) ? match[1] : null;
}

/** latest.txt holds `prod/<id>`, the snapshot's folder in the bucket, so a person reading it with `gsutil cat` sees where to look; a bare id is accepted too. */
export function formatLatest(id: string): string {
  return `${SNAPSHOT_ROOT}/${id}\n`;
}

export function parseLatest(text: string): string {
  const value = text.trim().replace(new RegExp(`^${SNAPSHOT_ROOT}/`), '').replace(/\/$/, '');
  if (!isSnapshotId(value)) {
    throw new UserError(`${LATEST_KEY} holds "${text.trim()}", which is not a snapshot id`, {
      hint: 'repoint it with `syrf-db promote ID` (see docs/runbook.md, "recover from a bad latest")',
      exitCode: 4,
    });
  }
  return value;
}
