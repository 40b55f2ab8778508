import type { Db } from 'mongodb';
import { UserError } from '../errors.js';
import type { ArchiveEvent } from '../archive/types.js';
import type { Logger } from '../ops/log.js';
import { acquireRestoreLock } from './lock.js';
import { loadIntoTemporaryCollections, type LoadedCollection } from './load.js';
import { dropTemporaryCollections, swapIntoPlace } from './swap.js';

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
  let lost: string | undefined;
  const lock = await acquireRestoreLock(db, {
    ttlMs: options.lockTtlMs ?? 10 * 60_000,
    holder: options.holder,
    onLost: (reason) => (lost = reason),
  });
  if (lock.takenOverFrom) {
    options.logger.warn(`took over an expired lock on ${db.databaseName} held by ${lock.takenOverFrom.holder}; that run died`);
  }
  try {
    await dropTemporaryCollections(db, options.logger, 'left behind by an interrupted run');
    try {
      const loaded = await loadIntoTemporaryCollections(db, events, { logger: options.logger, label: options.label });
      await options.beforeSwap?.(loaded);
      // Another run may own the target now; swapping would interleave two restores.
      if (lost) throw new UserError(`lost the lock on ${db.databaseName} during the load (${lost}); the target was not changed`, { hint: 're-run the restore' });
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
