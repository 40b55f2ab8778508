import { deserialize, type Document } from 'bson';
import type { Db } from 'mongodb';
import { UserError } from '../errors.js';
import type { ArchiveEvent } from '../archive/types.js';
import { parseCollectionMetadata } from '../archive/metadata.js';
import type { Logger } from '../ops/log.js';
import { throttle } from '../ops/log.js';
import { tempNameFor } from '../mongo/temp-names.js';
import { decodeExact, EXACT_DECODE, UnrepresentableValueError } from '../util/bson-exact.js';
import { faultPoint } from '../util/fault.js';
import { ExitCode } from '../errors.js';

export interface LoadedCollection {
  name: string;
  type: 'collection' | 'view' | 'timeseries';
  temp: string;
  documents: number;
  indexes: Document[];
  options: Document;
}

export interface LoadOptions {
  logger: Logger;
  /** Insert batches in flight at once, across all collections. */
  concurrency?: number;
  /** Documents per insert command at most. */
  batchSize?: number;
  /** ...and BSON bytes per command at most (a larger document goes alone), so memory stays bounded whatever the document sizes. */
  batchBytes?: number;
  label: string;
  /** Aborted on SIGTERM: the load stops at the next batch. */
  signal?: AbortSignal;
}

/** Raw documents of one collection waiting for a batch to fill. */
interface PendingBatch {
  documents: Buffer[];
  bytes: number;
}


/**
 * Loads an archive event stream into temporary collections of `db`, with
 * their options, then their indexes (built after the data, which is
 * faster). Nothing under a real collection name is touched here.
 */
export async function loadIntoTemporaryCollections(db: Db, events: AsyncIterable<ArchiveEvent>, options: LoadOptions): Promise<LoadedCollection[]> {
  const batchSize = options.batchSize ?? 1000;
  // 1 MiB: twice that costs ~60 MiB more peak RSS (batches in flight are decoded objects) and gains nothing measurable.
  const batchBytes = options.batchBytes ?? 1024 * 1024;
  const inFlight = new Set<Promise<void>>();
  const limit = Math.max(1, options.concurrency ?? 4);
  const loaded = new Map<string, LoadedCollection>();
  const pending = new Map<string, PendingBatch>();
  let failure: unknown;
  let total = 0;
  const progress = throttle(2000, () => options.logger.progress(`${options.label}: ${total} documents loaded`, { documents: total }));

  const submit = async (collection: LoadedCollection, raw: Buffer[]) => {
    while (inFlight.size >= limit) await Promise.race(inFlight);
    if (failure) throw failure;
    // Decoded only now: waiting batches stay compact BSON, and objects (several times larger) exist only while in flight.
    const docs = raw.map((bytes) => decodeFor(collection.name, bytes));
    const task = insertBatch(db, collection.temp, docs)
      .then(() => {
        collection.documents += docs.length;
        total += docs.length;
        progress.tick();
        faultPoint('restore.load.batch');
      })
      .catch((error: unknown) => {
        failure ??= new UserError(`inserting into ${collection.name} failed: ${(error as Error).message}`, { cause: error });
      })
      .finally(() => inFlight.delete(task));
    inFlight.add(task);
  };

  try {
    await consume();
  } finally {
    // Every insert still in flight must land (or fail) before anyone drops the temporaries it writes to.
    await Promise.allSettled(inFlight);
  }
  if (failure) throw failure;
  progress.flush();
  faultPoint('restore.load.done');

  for (const collection of loaded.values()) {
    if (collection.type === 'view') continue;
    const specs = collection.indexes.filter((index) => index.name !== '_id_').map(creatableIndex);
    if (specs.length > 0) {
      options.signal?.throwIfAborted();
      try {
        await db.command({ createIndexes: collection.temp, indexes: specs });
      } catch (error) {
        throw new UserError(`building indexes of ${collection.name} failed: ${(error as Error).message}`, {
          hint: 'the target was left unchanged; check the index definitions in the snapshot manifest',
          cause: error,
        });
      }
    }
  }
  return [...loaded.values()];

  async function consume(): Promise<void> {
    for await (const event of events) {
      if (failure) break;
      options.signal?.throwIfAborted();
      if (event.type === 'prelude') {
        for (const ns of event.namespaces) {
          const meta = parseCollectionMetadata(ns.metadata);
          const type = ns.type === 'view' ? 'view' : ns.type === 'timeseries' ? 'timeseries' : 'collection';
          const entry: LoadedCollection = { name: ns.collection, type, temp: tempNameFor(ns.collection), documents: 0, indexes: meta.indexes, options: meta.options };
          loaded.set(ns.collection, entry);
          if (type !== 'view') {
            await db.collection(entry.temp).drop().catch(() => undefined);
            await db.createCollection(entry.temp, creatableOptions(entry.options));
          }
        }
        continue;
      }
      const collection = loaded.get(event.collection);
      if (!collection) throw new UserError(`archive has data for ${event.db}.${event.collection}, which its prelude does not declare`, { exitCode: 4 });
      if (event.type === 'segment') {
        let batch = pending.get(event.collection) ?? { documents: [], bytes: 0 };
        pending.set(event.collection, batch);
        for (const raw of event.documents) {
          // Sent before it would outgrow a command: a 16 MB document then travels alone, within the server's limit.
          if (batch.documents.length >= batchSize || (batch.documents.length > 0 && batch.bytes + raw.length > batchBytes)) {
            const full = batch.documents;
            batch = { documents: [], bytes: 0 };
            pending.set(event.collection, batch);
            await submit(collection, full);
          }
          batch.documents.push(raw);
          batch.bytes += raw.length;
        }
      } else if (event.type === 'eof') {
        const rest = pending.get(event.collection);
        if (rest?.documents.length) await submit(collection, rest.documents);
        pending.delete(event.collection);
      }
    }
  }
}

/** Exact decode; a value the driver cannot carry is refused with its collection and _id, never changed. */
export function decodeFor(collection: string, raw: Buffer): Document {
  try {
    return decodeExact(raw);
  } catch (error) {
    if (!(error instanceof UnrepresentableValueError)) throw error;
    throw new UserError(`${collection} document ${idOf(raw)}: ${error.message}`, {
      hint: 'the target was left unchanged; such a value cannot be restored through the MongoDB Node.js driver: fix or exclude the document at the source, or restore this collection with mongorestore',
      exitCode: ExitCode.corrupt,
    });
  }
}

function idOf(raw: Buffer): string {
  try {
    const { _id } = deserialize(raw, EXACT_DECODE) as { _id?: unknown };
    return JSON.stringify(_id) ?? String(_id);
  } catch {
    return '(unknown _id)';
  }
}

/**
 * One `insert` command per batch. insertMany would walk every document
 * once more to size it for splitting (our batches are already small
 * enough) and build bulk-write bookkeeping per document: on a fast server
 * that client-side work is what limits a restore.
 */
export async function insertBatch(db: Db, collection: string, documents: Document[]): Promise<void> {
  const reply = await db.command({ insert: collection, documents, ordered: false, bypassDocumentValidation: true });
  const writeErrors = (reply.writeErrors ?? []) as Array<{ index?: number; code?: number; errmsg?: string }>;
  const first = writeErrors[0];
  if (first) {
    throw new Error(`${writeErrors.length} of ${documents.length} documents were refused; the first (#${first.index}): ${first.errmsg} (code ${first.code})`);
  }
  const concern = reply.writeConcernError as { errmsg?: string } | undefined;
  if (concern) throw new Error(`write concern failed: ${concern.errmsg}`);
  if (reply.n !== documents.length) throw new Error(`the server inserted ${reply.n} of ${documents.length} documents`);
}

/** Options a createCollection accepts; identifiers the server assigns itself are dropped. */
export function creatableOptions(options: Document): Document {
  const { uuid: _uuid, viewOn: _viewOn, pipeline: _pipeline, ...rest } = options;
  return rest;
}

/** An index spec as createIndexes accepts it: without the version and namespace the dump recorded. */
export function creatableIndex(index: Document): Document {
  const { v: _v, ns: _ns, ...rest } = index;
  return rest;
}
