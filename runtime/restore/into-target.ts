import type { Db } from 'mongodb';
import { UserError } from '../errors.js';
import type { ArchiveEvent } from '../archive/types.js';
import type { Logger } from '../ops/log.js';
import { faultPoint } from '../util/fault.js';
import { acquireRestoreLock, LOCK_COLLECTION, type AcquireLockOptions, type LockDocument, type RestoreLock } from './lock.js';
import { loadIntoTemporaryCollections, type LoadedCollection } from './load.js';
import { applySwap, dropTemporaryCollections, planSwap } from './swap.js';

export interface CollectionCounts {
  collections: Array<{ name: string; documents: number }>;
  documents: number;
}

/** What a restore or clone reports: documents per collection and in total. */
export function countsOf(loaded: LoadedCollection[]): CollectionCounts {
  const collections = loaded.map((c) => ({ name: c.name, documents: c.documents }));
  return { collections, documents: collections.reduce((sum, c) => sum + c.documents, 0) };
}

export interface IntoTargetOptions {
  logger: Logger;
  holder: string;
  label: string;
  /** Lock timing (heartbeat, staleness, how long to wait for a live holder). */
  lock?: Pick<AcquireLockOptions, 'heartbeatMs' | 'staleAfterMs' | 'waitMs'>;
  /** Aborted on SIGTERM/SIGINT: stops the run before its swap, never during it. */
  signal?: AbortSignal;
  /** Runs after everything loaded and before the swap: the last chance to refuse. */
  beforeSwap?: (loaded: LoadedCollection[]) => void | Promise<void>;
}

/** How long a new run waits for a holder that may have just died, by default: its staleness plus a margin. */
export const DEFAULT_LOCK_WAIT_MS = 20_000;

/**
 * The one way data enters a target database, for restores and clones
 * alike: under the target's lock, into temporary collections, swapped in
 * only when all of them loaded, through a journal in the lock (see
 * swap.ts). Before anything else, whatever an interrupted run left is
 * finished (its swap) or removed (its temporaries).
 */
export async function writeIntoTarget(
  db: Db,
  source: AsyncIterable<ArchiveEvent> | (() => Promise<AsyncIterable<ArchiveEvent>>),
  options: IntoTargetOptions,
): Promise<LoadedCollection[]> {
  let lost: string | undefined;
  const lock = await acquireRestoreLock(db, {
    holder: options.holder,
    waitMs: DEFAULT_LOCK_WAIT_MS,
    ...options.lock,
    ...(options.signal ? { signal: options.signal } : {}),
    onLost: (reason) => (lost = reason),
  });
  faultPoint('restore.lock.acquired');
  try {
    await finishInterruptedRun(db, lock, options.logger);
    try {
      // Prepared only now (e.g. downloaded), so an interrupted swap is finished first, whatever this run's input does.
      const events = typeof source === 'function' ? await source() : source;
      const loaded = await loadIntoTemporaryCollections(db, events, {
        logger: options.logger,
        label: options.label,
        ...(options.signal ? { signal: options.signal } : {}),
      });
      await options.beforeSwap?.(loaded);
      options.signal?.throwIfAborted();
      // Another run may own the target now; swapping would interleave two restores.
      if (lost) throw new UserError(`lost the lock on ${db.databaseName} during the load (${lost}); the target was not changed`, { hint: 're-run the restore' });
      const journal = planSwap(loaded);
      // The commit point: from here on the swap is finished, by this run or the next.
      await lock.setJournal(journal);
      faultPoint('restore.swap.journal-written');
      await applySwap(db, journal, options.logger);
      faultPoint('restore.swap.applied');
      await lock.setJournal(undefined);
      return loaded;
    } catch (error) {
      if (!lock.hasJournal) await dropTemporaryCollections(db, options.logger, 'this run failed; the target keeps its previous data');
      throw error;
    }
  } catch (error) {
    if (lock.hasJournal) {
      throw new UserError(`${db.databaseName}: a swap started but did not finish: ${(error as Error).message}`, {
        hint: `run \`syrf-db recover --target ${db.databaseName}\` (or this command again): it completes the swap before anything else`,
        cause: error,
      });
    }
    throw error;
  } finally {
    // A journal must outlive us: then the lock stays (without heartbeat) for the next run or `syrf-db recover` to finish.
    if (lock.hasJournal) lock.abandon();
    else await lock.release();
  }
}

/**
 * Reads (never writes) the target's lock; only when it holds the journal
 * of an interrupted swap, takes the lock and finishes that swap.
 */
export async function finishInterruptedSwapIfAny(
  db: Db,
  options: { holder: string; logger: Logger; lock?: IntoTargetOptions['lock'] },
): Promise<RecoveryReport | undefined> {
  const current = await db.collection<LockDocument>(LOCK_COLLECTION).findOne({ _id: 'restore' }, { projection: { swap: 1 } });
  if (!current?.swap) return undefined;
  return finishUnderLock(db, options);
}

/**
 * Takes the target's lock and completes whatever a killed run left (rolls its swap forward, drops its
 * temporaries). A journal that could not be finished stays for the next run; otherwise the lock is released.
 */
export async function finishUnderLock(db: Db, options: { holder: string; logger: Logger; lock?: IntoTargetOptions['lock'] }): Promise<RecoveryReport> {
  const lock = await acquireRestoreLock(db, { holder: options.holder, waitMs: DEFAULT_LOCK_WAIT_MS, ...options.lock });
  try {
    return await finishInterruptedRun(db, lock, options.logger);
  } finally {
    if (lock.hasJournal) lock.abandon();
    else await lock.release();
  }
}

export interface RecoveryReport {
  /** Collections of an interrupted swap that were put in place. */
  finishedSwap: string[];
  droppedTemporaries: string[];
}

/** Rolls an interrupted swap forward, then drops every leftover temporary. Call holding the lock. */
export async function finishInterruptedRun(db: Db, lock: RestoreLock, logger: Logger): Promise<RecoveryReport> {
  const previous = lock.takenOverFrom;
  if (previous) logger.warn(`took over the lock on ${db.databaseName} from ${previous.holder} (host ${previous.host}, pid ${previous.pid}), which stopped`);
  const finishedSwap: string[] = [];
  if (previous?.swap) {
    logger.warn(`finishing the swap that run started: ${[...previous.swap.collections.map((c) => c.name), ...previous.swap.views.map((v) => v.name)].join(', ')}`);
    await lock.setJournal(previous.swap);
    await applySwap(db, previous.swap, logger);
    await lock.setJournal(undefined);
    finishedSwap.push(...previous.swap.collections.map((c) => c.name), ...previous.swap.views.map((v) => v.name));
  }
  const droppedTemporaries = await dropTemporaryCollections(db, logger, 'left behind by an interrupted run');
  return { finishedSwap, droppedTemporaries };
}
