/**
 * The scheduled sweep: drops preview databases whose PR is no longer open, and any
 * older than a retention age, so pseudonymized data never outlives its purpose.
 *
 * A database's age is counted from the first time a sweep saw it: MongoDB keeps no
 * creation time, and restored documents keep their production ids. The first sweep
 * to see a database stamps it; a restore that replaces every collection starts a new
 * count, which is right, because that data is new.
 */
import type { MongoClient } from 'mongodb';
import { ExitCode, UserError } from '../errors.js';
import { prNumberOfDatabase } from '../contract/databases.js';
import { dropPreviewDatabase, existingDatabases } from './drop.js';

export const SWEEP_STAMP_COLLECTION = '_syrf_sweep';
const STAMP_ID = 'first-seen';

export type SweepReason = 'pr-not-open' | 'older-than-limit';

export interface SweepDecision {
  database: string;
  pr: number;
  action: 'drop' | 'keep';
  reason: SweepReason | 'pr-open';
  ageMs: number;
}

/** `14d`, `36h`: the retention age as milliseconds; anything else is one clear error. */
export function parseAge(text: string): number {
  const match = /^([1-9]\d{0,4})(d|h)$/.exec(text.trim());
  if (!match) {
    throw new UserError(`--older-than "${text}" is not an age`, { hint: 'use a whole number of days or hours, e.g. 14d or 36h', exitCode: ExitCode.usage });
  }
  return Number(match[1]) * (match[2] === 'd' ? 86_400_000 : 3_600_000);
}

/**
 * The open PR numbers: a JSON array of numbers, or of objects with a `number`
 * (what `gh pr list --state open --json number` prints). Anything else is refused:
 * a list that failed to download must never read as "no PR is open".
 */
export function parseOpenPrs(text: string): Set<number> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw openPrsError('it is not JSON');
  }
  if (!Array.isArray(value)) throw openPrsError('it is not a JSON array');
  const numbers = new Set<number>();
  for (const entry of value) {
    const n = typeof entry === 'number' ? entry : typeof entry === 'object' && entry !== null ? (entry as { number?: unknown }).number : undefined;
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1) throw openPrsError(`it holds ${JSON.stringify(entry)?.slice(0, 40)}, not a PR number`);
    numbers.add(n);
  }
  return numbers;
}

function openPrsError(problem: string): UserError {
  return new UserError(`the open-PR list is unusable: ${problem}; nothing was dropped`, {
    hint: 'pass the output of `gh pr list --state open --json number --limit 1000` (a JSON array), or [] when no PR is open',
    exitCode: ExitCode.usage,
  });
}

/** Pure: what to do with one preview database. */
export function decide(database: string, pr: number, ageMs: number, openPrs: ReadonlySet<number>, maxAgeMs: number): SweepDecision {
  if (!openPrs.has(pr)) return { database, pr, action: 'drop', reason: 'pr-not-open', ageMs };
  if (ageMs > maxAgeMs) return { database, pr, action: 'drop', reason: 'older-than-limit', ageMs };
  return { database, pr, action: 'keep', reason: 'pr-open', ageMs };
}

async function firstSeen(client: MongoClient, database: string, now: Date, dryRun: boolean): Promise<Date> {
  const stamps = client.db(database).collection<{ _id: string; at: Date }>(SWEEP_STAMP_COLLECTION);
  const existing = await stamps.findOne({ _id: STAMP_ID });
  if (existing?.at instanceof Date) return existing.at;
  if (!dryRun) await stamps.updateOne({ _id: STAMP_ID }, { $setOnInsert: { at: now } }, { upsert: true });
  return now;
}

export interface SweepOptions {
  client: MongoClient;
  openPrs: ReadonlySet<number>;
  maxAgeMs: number;
  now?: Date;
  dryRun?: boolean;
  holder: string;
}

export interface SweepResult {
  decisions: SweepDecision[];
  dropped: string[];
}

export async function sweepPreviewDatabases(options: SweepOptions): Promise<SweepResult> {
  const now = options.now ?? new Date();
  const names = [...(await existingDatabases(options.client))].sort();
  const decisions: SweepDecision[] = [];
  const dropped: string[] = [];
  for (const database of names) {
    const pr = prNumberOfDatabase(database);
    if (pr === undefined) continue;
    const seen = await firstSeen(options.client, database, now, options.dryRun === true);
    const decision = decide(database, pr, now.getTime() - seen.getTime(), options.openPrs, options.maxAgeMs);
    decisions.push(decision);
    if (decision.action === 'drop' && options.dryRun !== true) {
      const result = await dropPreviewDatabase(options.client, database, options.holder);
      if (result.dropped) dropped.push(database);
    }
  }
  return { decisions, dropped };
}
