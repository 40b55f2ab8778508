/**
 * Putting loaded collections under their real names, crash-atomically.
 *
 * Before the first rename the whole plan — every collection's temporary,
 * final and set-aside name, and every view to recreate — is written into
 * the lock document (the journal). That write is the commit point: a run
 * killed before it leaves only temporaries (the next run drops them, the
 * target keeps its old data); a run killed after it leaves a journal, and
 * whoever takes the lock next rolls the swap forward to completion before
 * doing anything else. Every step of the roll-forward looks at what exists
 * first, so running it twice, or after a partial run, ends in the same state.
 *
 * MongoDB renames over the target atomically (`dropTarget`). FerretDB has
 * no `dropTarget`: there the current collection is renamed aside to
 * `_syrf_old_<name>` and the new one renamed into place, and the set-aside
 * ones are dropped only after every collection is in place.
 */
import { EJSON, type Document } from 'bson';
import { MongoServerError, type Db } from 'mongodb';
import type { Logger } from '../ops/log.js';
import { faultPoint } from '../util/fault.js';
import { creatableIndex, creatableOptions, decodeFor, insertBatch, type LoadedCollection } from './load.js';
import { isTempName, oldNameFor } from '../mongo/temp-names.js';

export interface SwapJournal {
  phase: 'swapping';
  collections: Array<{ name: string; temp: string; old: string }>;
  /** Views are recreated from their definition; kept as Extended JSON because pipelines hold `$` keys. */
  views: Array<{ name: string; optionsEjson: string }>;
}

const ILLEGAL_OPERATION = 20;
const COMMAND_NOT_SUPPORTED = 115;
const NOT_IMPLEMENTED = 238;

export function planSwap(loaded: LoadedCollection[]): SwapJournal {
  return {
    phase: 'swapping',
    collections: loaded.filter((c) => c.type !== 'view').map((c) => ({ name: c.name, temp: c.temp, old: oldNameFor(c.name) })),
    views: loaded.filter((c) => c.type === 'view').map((c) => ({ name: c.name, optionsEjson: EJSON.stringify(c.options, { relaxed: false }) })),
  };
}

export interface SwapReport {
  /** From the first rename to the last change of the target: while it lasts, a reader may see old and new collections side by side. */
  mixedWindowMs: number;
}

/** Carries out (or finishes) a journaled swap. Idempotent. */
export async function applySwap(db: Db, journal: SwapJournal, logger: Logger): Promise<SwapReport> {
  const existing = new Set((await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name));
  const started = performance.now();
  for (const entry of journal.collections) {
    if (existing.has(entry.temp)) {
      await renameIntoPlace(db, entry, existing);
      existing.delete(entry.temp);
      existing.add(entry.name);
    } else if (!existing.has(entry.name)) {
      logger.warn(`swap of ${db.databaseName}.${entry.name}: neither the loaded nor the final collection exists; skipped`);
    }
    faultPoint('restore.swap.after-rename');
  }
  for (const view of journal.views) {
    if (existing.has(view.name)) await db.collection(view.name).drop().catch(ignoreMissing);
    await db.createCollection(view.name, EJSON.parse(view.optionsEjson, { relaxed: false }) as Document);
    faultPoint('restore.swap.after-view');
  }
  const mixedWindowMs = performance.now() - started;
  for (const entry of journal.collections) {
    if (existing.has(entry.old)) await db.collection(entry.old).drop().catch(ignoreMissing);
  }
  logger.info(`swapped ${journal.collections.length + journal.views.length} collections into ${db.databaseName} (target mixed for ${mixedWindowMs.toFixed(1)} ms)`, {
    mixedWindowMs,
  });
  return { mixedWindowMs };
}

async function renameIntoPlace(db: Db, entry: SwapJournal['collections'][number], existing: Set<string>): Promise<void> {
  try {
    await renameOver(db, entry, existing);
  } catch (error) {
    // FerretDB cannot rename collections whose names contain a dot; those are copied instead.
    if (!isInvalidNamespace(error) || !(entry.name.includes('.') || entry.temp.includes('.'))) throw error;
    await copyIntoPlace(db, entry, existing);
  }
}

async function renameOver(db: Db, entry: SwapJournal['collections'][number], existing: Set<string>): Promise<void> {
  if (!noDropTarget.has(db.client)) {
    try {
      await db.renameCollection(entry.temp, entry.name, { dropTarget: true });
      return;
    } catch (error) {
      if (!isUnsupported(error)) throw error;
      noDropTarget.add(db.client);
    }
  }
  if (existing.has(entry.name)) {
    if (existing.has(entry.old)) await db.collection(entry.old).drop().catch(ignoreMissing);
    await db.renameCollection(entry.name, entry.old);
    existing.add(entry.old);
    faultPoint('restore.swap.after-set-aside');
  }
  await db.renameCollection(entry.temp, entry.name);
}

/**
 * The swap by copy, for names the server cannot rename: the final
 * collection is rebuilt from the loaded one, which is dropped only once the
 * copy is complete, so an interrupted copy is simply redone.
 */
async function copyIntoPlace(db: Db, entry: SwapJournal['collections'][number], existing: Set<string>): Promise<void> {
  const [info] = await db.listCollections({ name: entry.temp }).toArray();
  const indexes = await db.collection(entry.temp).listIndexes().toArray();
  if (existing.has(entry.name)) await db.collection(entry.name).drop().catch(ignoreMissing);
  await db.createCollection(entry.name, creatableOptions(((info as { options?: Document } | undefined)?.options ?? {}) as Document));
  let batch: Document[] = [];
  let bytes = 0;
  for await (const raw of db.collection(entry.temp).find({}, { raw: true, batchSize: 1000 }) as AsyncIterable<unknown>) {
    const doc = raw as Buffer;
    batch.push(decodeFor(entry.name, doc));
    bytes += doc.length;
    if (batch.length >= 1000 || bytes >= 1 << 20) {
      await insertBatch(db, entry.name, batch);
      faultPoint('restore.swap.copy-batch');
      batch = [];
      bytes = 0;
    }
  }
  if (batch.length) await insertBatch(db, entry.name, batch);
  const specs = indexes.filter((index) => index.name !== '_id_').map(creatableIndex);
  if (specs.length) await db.command({ createIndexes: entry.name, indexes: specs });
  await db.collection(entry.temp).drop().catch(ignoreMissing);
}

function isInvalidNamespace(error: unknown): boolean {
  return error instanceof MongoServerError && (error.code === 73 || /invalid (target )?namespace/i.test(error.message));
}

/** Servers learned to lack `dropTarget` (FerretDB), so each swap asks only once. */
const noDropTarget = new WeakSet<object>();

function isUnsupported(error: unknown): boolean {
  if (!(error instanceof MongoServerError)) return false;
  return error.code === NOT_IMPLEMENTED || ([COMMAND_NOT_SUPPORTED, ILLEGAL_OPERATION].includes(Number(error.code)) && /dropTarget/i.test(error.message));
}

function ignoreMissing(error: unknown): void {
  if (error instanceof MongoServerError && (error.code === 26 || /ns not found|does not exist/i.test(error.message))) return;
  throw error;
}

/** Drops every temporary collection in `db`. Call only while holding the lock and after any journal was rolled forward. */
export async function dropTemporaryCollections(db: Db, logger: Logger, why: string): Promise<string[]> {
  const names = (await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name).filter(isTempName);
  for (const name of names) {
    await db.collection(name).drop().catch(ignoreMissing);
    logger.info(`dropped temporary collection ${db.databaseName}.${name} (${why})`);
  }
  return names;
}
