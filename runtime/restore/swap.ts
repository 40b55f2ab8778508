import type { Db } from 'mongodb';
import { MongoServerError } from 'mongodb';
import type { Logger } from '../ops/log.js';
import type { LoadedCollection } from './load.js';
import { isTempName } from './temp-names.js';

/** Drops every temporary collection in `db`. Call only while holding the lock, so none is another run's. */
export async function dropTemporaryCollections(db: Db, logger: Logger, why: string): Promise<string[]> {
  const names = (await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name).filter(isTempName);
  for (const name of names) {
    await db.collection(name).drop().catch(() => undefined);
    logger.info(`dropped temporary collection ${db.databaseName}.${name} (${why})`);
  }
  return names;
}

/**
 * Puts loaded collections under their real names. Every collection is
 * complete before the first rename, so the target switches over in one
 * short burst of renames instead of collection by collection during a load.
 */
export async function swapIntoPlace(db: Db, loaded: LoadedCollection[], logger: Logger): Promise<void> {
  for (const collection of loaded) {
    if (collection.type === 'view') continue;
    await renameOver(db, collection.temp, collection.name);
  }
  for (const view of loaded.filter((c) => c.type === 'view')) {
    await db.collection(view.name).drop().catch(() => undefined);
    await db.createCollection(view.name, view.options);
  }
  logger.debug(`swapped ${loaded.length} collections into ${db.databaseName}`);
}

async function renameOver(db: Db, from: string, to: string): Promise<void> {
  try {
    await db.renameCollection(from, to, { dropTarget: true });
  } catch (error) {
    // FerretDB has no dropTarget; there the old collection is dropped just before the rename.
    if (!(error instanceof MongoServerError) || error.code !== 238) throw error;
    await db.collection(to).drop().catch(() => undefined);
    await db.renameCollection(from, to);
  }
}
