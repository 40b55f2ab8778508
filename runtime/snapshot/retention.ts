import { snapshotDate } from '../store/layout.js';
import type { SnapshotStatus } from './catalog.js';

export interface RetentionInput {
  id: string;
  status: SnapshotStatus;
  /** When its newest object was written: decides whether an incomplete one may still be in progress. */
  updated: Date;
  isLatest: boolean;
}

export interface RetentionPolicy {
  daily: number;
  weekly: number;
  /** Incomplete or failed snapshots younger than this may still be running and are kept. */
  incompleteGraceHours: number;
}

export interface RetentionDecision {
  id: string;
  action: 'keep' | 'delete';
  reason: string;
}

/**
 * Grandfather-father-son retention: the newest `daily` complete snapshots,
 * plus the newest complete snapshot of each of the `weekly` most recent ISO
 * weeks. What latest.txt points to is always kept; incomplete and failed
 * snapshots go once they are older than the grace period.
 */
export function planRetention(snapshots: RetentionInput[], policy: RetentionPolicy, now: Date): RetentionDecision[] {
  const decisions = new Map<string, RetentionDecision>();
  const complete = snapshots.filter((s) => s.status === 'complete').sort((a, b) => b.id.localeCompare(a.id));

  for (const snapshot of complete.slice(0, policy.daily)) {
    decisions.set(snapshot.id, { id: snapshot.id, action: 'keep', reason: 'daily' });
  }
  const weeksSeen = new Set<string>();
  for (const snapshot of complete) {
    const week = isoWeek(snapshotDate(snapshot.id));
    if (weeksSeen.has(week)) continue;
    if (weeksSeen.size >= policy.weekly) break;
    weeksSeen.add(week);
    const earlier = decisions.get(snapshot.id);
    decisions.set(snapshot.id, { id: snapshot.id, action: 'keep', reason: earlier ? `${earlier.reason}, weekly ${week}` : `weekly ${week}` });
  }

  const graceMs = policy.incompleteGraceHours * 3600_000;
  for (const snapshot of snapshots) {
    if (snapshot.isLatest) {
      const earlier = decisions.get(snapshot.id);
      decisions.set(snapshot.id, { id: snapshot.id, action: 'keep', reason: earlier ? `${earlier.reason}, latest` : 'latest' });
      continue;
    }
    if (decisions.has(snapshot.id)) continue;
    if (snapshot.status !== 'complete') {
      const young = now.getTime() - snapshot.updated.getTime() < graceMs;
      decisions.set(snapshot.id, {
        id: snapshot.id,
        action: young ? 'keep' : 'delete',
        reason: young ? `${snapshot.status}, may still be in progress` : `${snapshot.status} for over ${policy.incompleteGraceHours} h`,
      });
      continue;
    }
    decisions.set(snapshot.id, { id: snapshot.id, action: 'delete', reason: 'beyond daily and weekly retention' });
  }
  return [...decisions.values()].sort((a, b) => b.id.localeCompare(a.id));
}

/** ISO-8601 week of a UTC date, e.g. `2026-W05`. */
export function isoWeek(date: Date): string {
  const d = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
  const day = d.getUTCDay() || 7;
  d.setUTCDate(d.getUTCDate() + 4 - day);
  const yearStart = new Date(Date.UTC(d.getUTCFullYear(), 0, 1));
  const week = Math.ceil(((d.getTime() - yearStart.getTime()) / 86400_000 + 1) / 7);
  return `${d.getUTCFullYear()}-W${String(week).padStart(2, '0')}`;
}
