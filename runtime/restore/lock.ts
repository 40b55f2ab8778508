/**
 * One restore or clone per target database at a time. The lock is a
 * document in the target itself, so it needs no other database and no
 * permissions beyond the ones the restore already has.
 *
 * Liveness is a heartbeat stamped with the *server's* clock
 * (`$currentDate`), and staleness is judged against the server's clock too,
 * so a client with a wrong clock can neither steal a live lock nor keep a
 * dead one. A holder that stopped beating for `staleAfterMs` — or whose
 * process is provably gone (same host, pid no longer running) — is taken
 * over atomically (compare-and-set on its token and last beat).
 *
 * The lock also carries the swap journal (see swap.ts): a run that died
 * mid-swap leaves its plan here, and whoever takes the lock next finishes it.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { MongoServerError, type Db } from 'mongodb';
import { ExitCode, UserError } from '../errors.js';
import { isProcessAlive } from '../util/process.js';
import { LOCK_COLLECTION } from '../mongo/temp-names.js';
import type { SwapJournal } from './swap.js';

export { LOCK_COLLECTION };
const LOCK_ID = 'restore';
const DUPLICATE_KEY = 11000;

export const DEFAULT_HEARTBEAT_MS = 2_000;
export const DEFAULT_STALE_AFTER_MS = 15_000;

export interface LockDocument {
  _id: typeof LOCK_ID;
  holder: string;
  /** Unique per acquisition, so a holder never releases a lock someone else took over. */
  token: string;
  host: string;
  pid: number;
  /** Server time. */
  acquiredAt: Date;
  /** Server time of the last heartbeat. */
  beatAt: Date;
  /** The holder promises to beat more often than this. */
  staleAfterMs: number;
  /** Server time at which a contender last looked; only used to compare with `beatAt`. */
  seenAt?: Date;
  /** Present while a swap is under way: the plan to finish it. */
  swap?: SwapJournal;
}

export interface AcquireLockOptions {
  /** Who holds it, for the message another run sees (e.g. the audit identity). */
  holder: string;
  /** Beat this often while held; 0 turns the timer off (tests beat by hand). */
  heartbeatMs?: number;
  /** A lock not beaten for this long (server time) is stale. */
  staleAfterMs?: number;
  /** How long to wait for a live holder to finish or go stale before refusing; default 0 (refuse at once). */
  waitMs?: number;
  /** Called when a heartbeat finds the lock is no longer ours. */
  onLost?: (reason: string) => void;
  /** Stops waiting. */
  signal?: AbortSignal;
}

export interface RestoreLock {
  readonly holder: string;
  readonly token: string;
  /** The stale lock this one replaced, if any (with its swap journal), so the caller can finish what that run started. */
  readonly takenOverFrom: LockDocument | undefined;
  /** Stamps the server's time; throws if the lock was lost. */
  heartbeat(): Promise<void>;
  /** True while the lock document holds a swap journal (set by us, or inherited from a run that died). */
  readonly hasJournal: boolean;
  /** Records (or with undefined, clears) the swap journal; throws if the lock was lost. */
  setJournal(journal: SwapJournal | undefined): Promise<void>;
  /** Stops the heartbeat but keeps the document, so an unfinished swap journal survives for the next run. */
  abandon(): void;
  /** Deletes the lock if it is still ours; safe to call twice. */
  release(): Promise<void>;
}

export async function acquireRestoreLock(db: Db, options: AcquireLockOptions): Promise<RestoreLock> {
  const collection = db.collection<LockDocument>(LOCK_COLLECTION);
  const token = randomUUID();
  const staleAfterMs = options.staleAfterMs ?? DEFAULT_STALE_AFTER_MS;
  const identity = { holder: options.holder, token, host: hostname(), pid: process.pid, staleAfterMs };
  const deadline = Date.now() + (options.waitMs ?? 0);

  for (let attempt = 0; ; attempt++) {
    try {
      // Matches nothing when someone holds the lock, so the upsert's insert hits the unique _id.
      await collection.updateOne(
        { _id: LOCK_ID, token },
        { $setOnInsert: identity, $currentDate: { acquiredAt: true, beatAt: true } },
        { upsert: true },
      );
      return heldLock(db, token, options);
    } catch (error) {
      if (!(error instanceof MongoServerError) || error.code !== DUPLICATE_KEY) throw error;
    }
    const current = await collection.findOneAndUpdate({ _id: LOCK_ID }, { $currentDate: { seenAt: true } }, { returnDocument: 'after' });
    if (!current) continue; // released just now: try again
    if (holderIsGone(current)) {
      const replaced = await collection.findOneAndUpdate(
        { _id: LOCK_ID, token: current.token, beatAt: current.beatAt },
        { $set: identity, $currentDate: { acquiredAt: true, beatAt: true } },
        { returnDocument: 'before' },
      );
      if (replaced) return heldLock(db, token, options, replaced);
      continue; // it beat or changed hands meanwhile: look again
    }
    if (options.signal?.aborted || Date.now() >= deadline) throw heldError(db.databaseName, current);
    if (attempt > 10_000) throw heldError(db.databaseName, current);
    await sleep(Math.min(500, Math.max(50, deadline - Date.now())));
  }
}

/** Its heartbeat stopped (server time), or it ran on this host and its process is gone. */
export function holderIsGone(lock: LockDocument): boolean {
  if (lock.host === hostname() && lock.pid !== process.pid && !isProcessAlive(lock.pid)) return true;
  const beat = lock.beatAt instanceof Date ? lock.beatAt.getTime() : NaN;
  const seen = lock.seenAt instanceof Date ? lock.seenAt.getTime() : NaN;
  // A lock from an older version has no beat: treat it as stale only via its pid, never by guessing.
  if (Number.isNaN(beat) || Number.isNaN(seen)) return false;
  return seen - beat > (Number(lock.staleAfterMs) || DEFAULT_STALE_AFTER_MS);
}

function heldLock(db: Db, token: string, options: AcquireLockOptions, takenOverFrom?: LockDocument): RestoreLock {
  const collection = db.collection<LockDocument>(LOCK_COLLECTION);
  let hasJournal = Boolean(takenOverFrom?.swap);

  const lost = () =>
    new UserError(`lost the restore lock on ${db.databaseName}: another run took it over`, {
      hint: 'this run stopped beating its lock (paused or cut off from the server); check the target for a concurrent restore and re-run',
      exitCode: ExitCode.refused,
    });
  const heartbeat = async (): Promise<void> => {
    const result = await collection.updateOne({ _id: LOCK_ID, token }, { $currentDate: { beatAt: true } });
    if (result.matchedCount === 0) throw lost();
  };

  const interval = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
  const timer =
    interval > 0
      ? setInterval(() => {
          heartbeat().catch((error: unknown) => options.onLost?.(error instanceof Error ? error.message : String(error)));
        }, interval)
      : undefined;
  // A heartbeat must never keep a finished process alive.
  timer?.unref();
  const stop = () => {
    if (timer) clearInterval(timer);
  };

  return {
    holder: options.holder,
    token,
    takenOverFrom,
    heartbeat,
    get hasJournal() {
      return hasJournal;
    },
    async setJournal(journal) {
      const update = journal ? { $set: { swap: journal }, $currentDate: { beatAt: true as const } } : { $unset: { swap: '' as const }, $currentDate: { beatAt: true as const } };
      const result = await collection.updateOne({ _id: LOCK_ID, token }, update);
      if (result.matchedCount === 0) throw lost();
      hasJournal = Boolean(journal);
    },
    abandon: stop,
    async release() {
      stop();
      await collection.deleteOne({ _id: LOCK_ID, token });
    },
  };
}

function heldError(database: string, lock: LockDocument): UserError {
  const beatAgoMs = lock.seenAt instanceof Date && lock.beatAt instanceof Date ? lock.seenAt.getTime() - lock.beatAt.getTime() : undefined;
  const staleAfter = Number(lock.staleAfterMs) || DEFAULT_STALE_AFTER_MS;
  return new UserError(
    `${database} is locked by another restore: held by ${lock.holder} (host ${lock.host}, pid ${lock.pid}) since ${isoOf(lock.acquiredAt)}, ` +
      `last heartbeat ${beatAgoMs === undefined ? 'unknown' : `${(beatAgoMs / 1000).toFixed(1)} s ago`}`,
    {
      hint:
        `wait for that restore to finish and retry; if it died, its lock is taken over automatically ${Math.ceil(staleAfter / 1000)} s after its last heartbeat, ` +
        `and \`syrf-db recover\` finishes whatever it left half done`,
      exitCode: ExitCode.refused,
    },
  );
}

function isoOf(value: unknown): string {
  return value instanceof Date ? value.toISOString() : String(value);
}
