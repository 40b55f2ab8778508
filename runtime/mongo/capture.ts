import type { Db, Document, MongoClient } from 'mongodb';
import { UserError } from '../errors.js';
import type { ArchiveEvent, NamespaceMetadata } from '../archive/types.js';
import { buildCollectionMetadata } from '../archive/metadata.js';
import { databaseNames } from './connect.js';
import { mergeLimited } from '../util/async.js';
import { isRestoreInternal } from './temp-names.js';

export interface PlannedCollection {
  name: string;
  type: 'collection' | 'view' | 'timeseries';
  options: Document;
  indexes: Document[];
  uuid?: string;
  /** The server's estimate, for progress only. */
  estimatedBytes: number;
}

export interface CapturePlan {
  db: string;
  collections: PlannedCollection[];
  excluded: string[];
}

/** Collections never worth capturing: server internals, and a restore's own lock and scratch collections. */
export function isSystemCollection(name: string): boolean {
  return name.startsWith('system.') || isRestoreInternal(name);
}

/**
 * Lists what a snapshot of `dbName` will contain. Unknown databases are an
 * error here rather than an empty snapshot, because an empty "latest" would
 * wipe every preview that restores it.
 */
export async function planCapture(
  client: MongoClient,
  dbName: string,
  isExcluded: (collection: string) => boolean,
): Promise<CapturePlan> {
  const names = await databaseNames(client);
  if (!names.includes(dbName)) {
    throw new UserError(`database "${dbName}" does not exist on the server`, {
      hint: `pick one of: ${names.filter((n) => !['admin', 'local', 'config'].includes(n)).join(', ') || '(none)'}`,
    });
  }
  const db = client.db(dbName);
  const infos = await db.listCollections({}, { nameOnly: false }).toArray();
  const collections: PlannedCollection[] = [];
  const excluded: string[] = [];
  for (const info of infos.sort((a, b) => a.name.localeCompare(b.name))) {
    if (isSystemCollection(info.name) || isExcluded(info.name)) {
      excluded.push(info.name);
      continue;
    }
    const type = info.type === 'view' ? 'view' : info.type === 'timeseries' ? 'timeseries' : 'collection';
    const uuid = (info as { info?: { uuid?: { toHexString?: (dashes?: boolean) => string } } }).info?.uuid;
    collections.push({
      name: info.name,
      type,
      options: (info as { options?: Document }).options ?? {},
      indexes: type === 'view' ? [] : await db.collection(info.name).listIndexes().toArray(),
      ...(uuid?.toHexString ? { uuid: uuid.toHexString(false) } : {}),
      estimatedBytes: type === 'view' ? 0 : await estimatedSize(db, info.name),
    });
  }
  return { db: dbName, collections, excluded };
}

async function estimatedSize(db: Db, collection: string): Promise<number> {
  try {
    const stats = await db.command({ collStats: collection });
    return Number(stats.size ?? 0);
  } catch {
    return 0; // only used for progress; servers without collStats still dump fine
  }
}

export function preludeNamespaces(plan: CapturePlan): NamespaceMetadata[] {
  return plan.collections.map((c) => ({
    db: plan.db,
    collection: c.name,
    metadata: buildCollectionMetadata({
      collectionName: c.name,
      type: c.type,
      options: c.options,
      indexes: c.indexes,
      ...(c.uuid ? { uuid: c.uuid } : {}),
    }),
    size: c.estimatedBytes,
    // mongodump writes "collection" here although the spec allows ''; do as it does.
    type: c.type,
  }));
}

export interface CaptureOptions {
  serverVersion: string;
  toolVersion: string;
  /** Collections dumped at once; their segments interleave in the archive. */
  parallelCollections: number;
  /** A segment is flushed when it reaches this many bytes. */
  segmentBytes?: number;
  /** Documents the server sends per cursor batch. */
  batchSize?: number;
}

/** Streams the database as archive events: a prelude, then segments and EOFs per collection. */
export async function* captureEvents(client: MongoClient, plan: CapturePlan, options: CaptureOptions): AsyncGenerator<ArchiveEvent> {
  yield {
    type: 'prelude',
    header: {
      concurrentCollections: options.parallelCollections,
      version: '0.1',
      serverVersion: options.serverVersion,
      toolVersion: options.toolVersion,
    },
    namespaces: preludeNamespaces(plan),
  };
  const db = client.db(plan.db);
  const segmentBytes = options.segmentBytes ?? 1 << 20;
  const batchSize = options.batchSize ?? 2000;
  const sources = plan.collections.map((c) => () => collectionEvents(db, plan.db, c, segmentBytes, batchSize));
  yield* mergeLimited(sources, options.parallelCollections);
}

async function* collectionEvents(
  db: Db,
  dbName: string,
  collection: PlannedCollection,
  segmentBytes: number,
  batchSize: number,
): AsyncGenerator<ArchiveEvent> {
  if (collection.type !== 'view') {
    // raw: documents stay as the server's BSON bytes, so capture never re-encodes them.
    const cursor = db.collection(collection.name).find({}, { raw: true, batchSize });
    let documents: Buffer[] = [];
    let bytes = 0;
    try {
      for await (const doc of cursor as AsyncIterable<unknown>) {
        const raw = doc as Buffer;
        documents.push(raw);
        bytes += raw.length;
        if (bytes >= segmentBytes) {
          yield { type: 'segment', db: dbName, collection: collection.name, documents };
          documents = [];
          bytes = 0;
        }
      }
    } finally {
      await cursor.close();
    }
    if (documents.length > 0) yield { type: 'segment', db: dbName, collection: collection.name, documents };
  }
  yield { type: 'eof', db: dbName, collection: collection.name, crc: 0n };
}
