import { deserialize, type Document } from 'bson';
import type { Db } from 'mongodb';
import { UserError } from '../errors.js';
import type { ArchiveEvent } from '../archive/types.js';
import { parseCollectionMetadata } from '../archive/metadata.js';
import type { Logger } from '../ops/log.js';
import { throttle } from '../ops/log.js';
import { tempNameFor } from './temp-names.js';

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
  /** Documents per insert batch (the server also splits at 48 MB). */
  batchSize?: number;
  label: string;
}

// Keep BSON types exactly as dumped: an Int64 stays Int64, a double 1.0 stays a double.
const EXACT_TYPES = { promoteValues: false, promoteLongs: false, promoteBuffers: false, bsonRegExp: true } as const;

/**
 * Loads an archive event stream into temporary collections of `db`, with
 * their options, then their indexes (built after the data, which is
 * faster). Nothing under a real collection name is touched here.
 */
export async function loadIntoTemporaryCollections(db: Db, events: AsyncIterable<ArchiveEvent>, options: LoadOptions): Promise<LoadedCollection[]> {
  const batchSize = options.batchSize ?? 1000;
  const inFlight = new Set<Promise<void>>();
  const limit = Math.max(1, options.concurrency ?? 4);
  const loaded = new Map<string, LoadedCollection>();
  const pending = new Map<string, Document[]>();
  let failure: unknown;
  let total = 0;
  const progress = throttle(2000, () => options.logger.progress(`${options.label}: ${total} documents loaded`, { documents: total }));

  const submit = async (collection: LoadedCollection, docs: Document[]) => {
    while (inFlight.size >= limit) await Promise.race(inFlight);
    if (failure) throw failure;
    const task = db
      .collection(collection.temp)
      .insertMany(docs, { ordered: false, bypassDocumentValidation: true })
      .then(() => {
        collection.documents += docs.length;
        total += docs.length;
        progress.tick();
      })
      .catch((error: unknown) => {
        failure ??= new UserError(`inserting into ${collection.name} failed: ${(error as Error).message}`, { cause: error });
      })
      .finally(() => inFlight.delete(task));
    inFlight.add(task);
  };

  for await (const event of events) {
    if (failure) break;
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
      const buffer = pending.get(event.collection) ?? [];
      for (const raw of event.documents) {
        buffer.push(deserialize(raw, EXACT_TYPES));
        if (buffer.length >= batchSize) await submit(collection, buffer.splice(0, buffer.length));
      }
      pending.set(event.collection, buffer);
    } else if (event.type === 'eof') {
      const rest = pending.get(event.collection);
      if (rest?.length) await submit(collection, rest);
      pending.delete(event.collection);
    }
  }
  await Promise.all(inFlight);
  if (failure) throw failure;
  progress.flush();

  for (const collection of loaded.values()) {
    if (collection.type === 'view') continue;
    const specs = collection.indexes.filter((index) => index.name !== '_id_').map(creatableIndex);
    if (specs.length > 0) {
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
}

/** Options a createCollection accepts; identifiers the server assigns itself are dropped. */
function creatableOptions(options: Document): Document {
  const { uuid: _uuid, viewOn: _viewOn, pipeline: _pipeline, ...rest } = options;
  return rest;
}

/** An index spec as createIndexes accepts it: without the version and namespace the dump recorded. */
function creatableIndex(index: Document): Document {
  const { v: _v, ns: _ns, ...rest } = index;
  return rest;
}
