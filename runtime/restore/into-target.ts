import type { Db } from 'mongodb';
import type { ArchiveEvent } from '../archive/types.js';
import type { Logger } from '../ops/log.js';
import { acquireRestoreLock } from './lock.js';
import { loadIntoTemporaryCollections, type LoadedCollection } from './load.js';
import { dropTemporaryCollections, swapIntoPlace } from './swap.js';

export interface IntoTargetOptions {
  logger: Logger;
  holder: string;
  lockTtlMs?: number;
  label: string;
  /** Runs after everything loaded and before the swap: the last chance to refuse. */
  beforeSwap?: (loaded: LoadedCollection[]) => void | Promise<void>;
}

/**
 * The one way data enters a target database, for restores and clones
 * alike: under the target's lock, into temporary collections, swapped in
 * only when all of them loaded. Any failure leaves the target as it was and
 * no temporary collection behind.
 */
export async function writeIntoTarget(db: Db, events: AsyncIterable<ArchiveEvent>, options: IntoTargetOptions): Promise<LoadedCollection[]> {
  const lock = await acquireRestoreLock(db, { ttlMs: options.lockTtlMs ?? 30 * 60_000, holder: options.holder });
  try {
    await dropTemporaryCollections(db, options.logger, 'left behind by an interrupted run');
    try {
      const loaded = await loadIntoTemporaryCollections(db, events, { logger: options.logger, label: options.label });
      await options.beforeSwap?.(loaded);
      await swapIntoPlace(db, loaded, options.logger);
      return loaded;
    } catch (error) {
      await dropTemporaryCollections(db, options.logger, 'this run failed; the target keeps its previous data');
      throw error;
    }
  } finally {
    await lock.release();
  }
}
