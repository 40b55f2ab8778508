/**
 * One restore or clone per target database at a time. The lock is a
 * document in the target itself, so it needs no other database and no
 * permissions beyond the ones the restore already has. A holder that dies
 * leaves a lock that expires; the next run takes it over atomically.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { MongoServerError, type Db } from 'mongodb';
import { ExitCode, UserError } from '../errors.js';

/** Restores must never drop, rename or copy this collection. */
export const LOCK_COLLECTION = '_syrf_restore_lock';
const LOCK_ID = 'restore';
const DUPLICATE_KEY = 11000;

export interface LockDocument {
  _id: typeof LOCK_ID;
  holder: string;
  /** Unique per acquisition, so a holder never releases a lock someone else took over. */
  token: string;
  host: string;
  pid: number;
  acquiredAt: Date;
  expiresAt: Date;
}

export interface AcquireLockOptions {
  ttlMs: number;
  /** Who holds it, for the message another run sees (e.g. the audit identity). */
  holder: string;
  /** Extends the lock this often while held; defaults to a third of the TTL; 0 turns it off. */
  heartbeatMs?: number;
  now?: () => Date;
  /** Called when a heartbeat finds the lock is no longer ours. */
  onLost?: (reason: string) => void;
}

export interface RestoreLock {
  readonly holder: string;
  readonly token: string;
  /** The expired lock this one replaced, if any, so the caller can log whose run died. */
  readonly takenOverFrom: LockDocument | undefined;
  /** Pushes `expiresAt` one TTL into the future; throws if the lock was lost. */
  heartbeat(): Promise<void>;
  /** Deletes the lock if it is still ours; safe to call twice. */
  release(): Promise<void>;
}

export async function acquireRestoreLock(db: Db, options: AcquireLockOptions): Promise<RestoreLock> {
  const now = options.now ?? (() => new Date());
  const collection = db.collection<LockDocument>(LOCK_COLLECTION);
  const token = randomUUID();
  const fresh = (): LockDocument => {
    const acquiredAt = now();
    return {
      _id: LOCK_ID,
      holder: options.holder,
      token,
      host: hostname(),
      pid: process.pid,
      acquiredAt,
      expiresAt: new Date(acquiredAt.getTime() + options.ttlMs),
    };
  };

  // A lock released between our insert and our look at it is simply free: try again.
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await collection.insertOne(fresh());
      return heldLock(db, token, options);
    } catch (error) {
      if (!(error instanceof MongoServerError) || error.code !== DUPLICATE_KEY) throw error;
    }
    const { _id, ...replacement } = fresh();
    const stale = await collection.findOneAndUpdate(
      { _id: LOCK_ID, expiresAt: { $lt: replacement.acquiredAt } },
      { $set: replacement },
      { returnDocument: 'before' },
    );
    if (stale) return heldLock(db, token, options, stale);
    const current = await collection.findOne({ _id: LOCK_ID });
    if (current) throw heldError(db.databaseName, current, now());
  }
  throw new UserError(`could not take the restore lock on ${db.databaseName}: it changed hands repeatedly`, {
    hint: 'another restore is starting at the same time; wait for it and retry',
    exitCode: ExitCode.refused,
  });
}

function heldLock(db: Db, token: string, options: AcquireLockOptions, takenOverFrom?: LockDocument): RestoreLock {
  const now = options.now ?? (() => new Date());
  const collection = db.collection<LockDocument>(LOCK_COLLECTION);
  let released = false;

  const heartbeat = async (): Promise<void> => {
    if (released) return;
    const result = await collection.updateOne({ _id: LOCK_ID, token }, { $set: { expiresAt: new Date(now().getTime() + options.ttlMs) } });
    if (result.matchedCount === 0) {
      throw new UserError(`lost the restore lock on ${db.databaseName}: another run took it over after it expired`, {
        hint: 'the lock TTL is shorter than this restore takes; raise it, and check the target for a concurrent restore',
        exitCode: ExitCode.refused,
      });
    }
  };

  const interval = options.heartbeatMs ?? Math.floor(options.ttlMs / 3);
  const timer =
    interval > 0
      ? setInterval(() => {
          heartbeat().catch((error: unknown) => options.onLost?.(error instanceof Error ? error.message : String(error)));
        }, interval)
      : undefined;
  // A heartbeat must never keep a finished process alive.
  timer?.unref();

  return {
    holder: options.holder,
    token,
    takenOverFrom,
    heartbeat,
    async release() {
      if (released) return;
      released = true;
      if (timer) clearInterval(timer);
      await collection.deleteOne({ _id: LOCK_ID, token });
    },
  };
}

function heldError(database: string, lock: LockDocument, now: Date): UserError {
  const expiresAt = lock.expiresAt instanceof Date ? lock.expiresAt : new Date(String(lock.expiresAt));
  const minutes = Math.max(1, Math.ceil((expiresAt.getTime() - now.getTime()) / 60_000));
  return new UserError(
    `${database} is locked by another restore: held by ${lock.holder} (host ${lock.host}, pid ${lock.pid}) since ${isoOf(lock.acquiredAt)}, expires ${expiresAt.toISOString()} (in about ${minutes} min)`,
    {
      hint:
        `wait for that restore to finish and retry; if it is dead, retry after the lock expires, ` +
        `or delete the lock by hand: db.getSiblingDB("${database}").${LOCK_COLLECTION}.deleteOne({ _id: "${LOCK_ID}" })`,
      exitCode: ExitCode.refused,
    },
  );
}

function isoOf(value: unknown): string {
  return value instanceof Date ? value.toISOString() : String(value);
}
