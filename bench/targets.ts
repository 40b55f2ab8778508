/**
 * The targets, as data, and the verdicts on measured numbers.
 * Ratios are subject ÷ baseline throughput (higher is better).
 */

export type Status = 'pass' | 'fail' | 'n/a' | 'info';

export interface RatioRow {
  id: string;
  label: string;
  unit: string;
  subject: { name: string; value: number | null };
  baseline: { name: string; value: number | null };
  ratio: number | null;
  /** Minimum ratio the issue asks for; null for rows shown for information. */
  target: number | null;
  status: Status;
  note?: string;
}

export interface RssRow {
  id: string;
  label: string;
  /** Peak RSS in MiB at the default scale and at 4× it; null when the run failed. */
  defaultMiB: number | null;
  fourTimesMiB: number | null;
  limitMiB: number;
  status: Status;
  note?: string;
}

export const TARGETS = {
  anonymizeVsFloor: 1.0,
  passThroughVsFloor: 0.9,
  snapshotVsMongodump: 1.0,
  restoreVsMongorestore: 1.0,
  peakRssMiB: 256,
  /** "Flat": 4× the data may cost at most this factor more memory. */
  rssGrowthFactor: 1.25,
} as const;

export function ratioRow(input: Omit<RatioRow, 'ratio' | 'status'> & { unavailable?: string }): RatioRow {
  const { unavailable, ...row } = input;
  const { subject, baseline, target } = row;
  if (unavailable !== undefined || subject.value === null || baseline.value === null || baseline.value <= 0) {
    return { ...row, ratio: null, status: 'n/a', note: unavailable ?? row.note };
  }
  const ratio = subject.value / baseline.value;
  const status: Status = target === null ? 'info' : ratio >= target ? 'pass' : 'fail';
  return { ...row, ratio, status };
}

export function rssRow(input: Omit<RssRow, 'status' | 'limitMiB'> & { unavailable?: string }): RssRow {
  const { unavailable, ...row } = input;
  const limitMiB = TARGETS.peakRssMiB;
  if (unavailable !== undefined || row.defaultMiB === null || row.fourTimesMiB === null) {
    return { ...row, limitMiB, status: 'n/a', note: unavailable ?? row.note };
  }
  const flat = row.fourTimesMiB <= row.defaultMiB * TARGETS.rssGrowthFactor;
  const under = row.fourTimesMiB < limitMiB && row.defaultMiB < limitMiB;
  return { ...row, limitMiB, status: flat && under ? 'pass' : 'fail' };
}
