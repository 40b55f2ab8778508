import { describe, expect, it } from 'vitest';
import { isoWeek, planRetention, type RetentionInput } from '../../../runtime/snapshot/retention.js';

const now = new Date('2026-03-31T12:00:00Z');
const policy = { daily: 7, weekly: 4, incompleteGraceHours: 24 };

function daily(days: number, from = '2026-03-31'): RetentionInput[] {
  const start = new Date(`${from}T03:00:00Z`).getTime();
  return Array.from({ length: days }, (_, i) => {
    const date = new Date(start - i * 86_400_000);
    return { id: date.toISOString().slice(0, 10), status: 'complete' as const, updated: date, isLatest: i === 0 };
  });
}

const kept = (decisions: ReturnType<typeof planRetention>) => decisions.filter((d) => d.action === 'keep').map((d) => d.id);

describe('planRetention (grandfather-father-son)', () => {
  it('keeps the 7 newest daily snapshots and the newest of each of the 4 newest weeks', () => {
    const decisions = planRetention(daily(40), policy, now);
    expect(kept(decisions)).toEqual([
      '2026-03-31', '2026-03-30', '2026-03-29', '2026-03-28', '2026-03-27', '2026-03-26', '2026-03-25',
      // newest of W13 (03-29 Sun is W13 → already kept), W12 ends 03-22, W11 ends 03-15
      '2026-03-22', '2026-03-15',
    ]);
    expect(decisions.filter((d) => d.action === 'delete')).toHaveLength(40 - 9);
    expect(decisions.find((d) => d.id === '2026-03-22')?.reason).toBe('weekly 2026-W12');
    expect(decisions.find((d) => d.id === '2026-03-31')?.reason).toBe('daily, weekly 2026-W14, latest');
  });

  it('never deletes what latest.txt points to, even beyond retention', () => {
    const snapshots = daily(20).map((s) => ({ ...s, isLatest: s.id === '2026-03-12' }));
    const decision = planRetention(snapshots, { ...policy, daily: 1, weekly: 0 }, now).find((d) => d.id === '2026-03-12');
    expect(decision).toEqual({ id: '2026-03-12', action: 'keep', reason: 'latest' });
  });

  it('removes incomplete and failed snapshots older than a day, keeps younger ones', () => {
    const snapshots: RetentionInput[] = [
      ...daily(3),
      { id: '2026-03-31-retry', status: 'incomplete', updated: new Date('2026-03-31T03:10:00Z'), isLatest: false },
      { id: '2026-03-20', status: 'failed', updated: new Date('2026-03-20T03:10:00Z'), isLatest: false },
      { id: '2026-03-19', status: 'incomplete', updated: new Date('2026-03-19T03:10:00Z'), isLatest: false },
    ];
    const decisions = planRetention(snapshots, policy, now);
    expect(decisions.find((d) => d.id === '2026-03-31-retry')).toMatchObject({ action: 'keep', reason: 'incomplete, may still be in progress' });
    expect(decisions.find((d) => d.id === '2026-03-20')).toMatchObject({ action: 'delete', reason: 'failed for over 24 h' });
    expect(decisions.find((d) => d.id === '2026-03-19')).toMatchObject({ action: 'delete' });
  });

  it('does not count incomplete snapshots towards the daily quota', () => {
    const snapshots: RetentionInput[] = [
      { id: '2026-03-31', status: 'failed', updated: new Date('2026-03-29T00:00:00Z'), isLatest: false },
      ...daily(3, '2026-03-30'),
    ];
    expect(kept(planRetention(snapshots, { ...policy, daily: 3, weekly: 0 }, now))).toEqual(['2026-03-30', '2026-03-29', '2026-03-28']);
  });
});

describe('isoWeek', () => {
  it.each([
    ['2026-01-01', '2026-W01'],
    ['2027-01-01', '2026-W53'],
    ['2026-03-29', '2026-W13'],
    ['2026-03-30', '2026-W14'],
  ])('%s is in %s', (day, week) => {
    expect(isoWeek(new Date(`${day}T00:00:00Z`))).toBe(week);
  });
});
