/**
 * Live compatibility with MongoDB's own tools: our reader reads what
 * `mongodump --archive --gzip` writes, and `mongorestore --archive --gzip`
 * restores what our writers write (the plain one and the
 * collection-addressable one, committed fixtures included), with identical
 * documents and indexes.
 * Needs mongodump/mongorestore (SYRF_MONGO_TOOLS_BIN or PATH); without them
 * the byte-level fixtures in test/fixtures/archive cover the format.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { BSON, type Document } from 'bson';
import type { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCollectionMetadata, parseCollectionMetadata } from '../../runtime/archive/metadata.js';
import { openArchive } from '../../runtime/archive/reader.js';
import { AddressableArchiveWriter } from '../../runtime/archive/addressable-writer.js';
import { createGzipArchiveWriter } from '../../runtime/archive/writer.js';
import { fixtureDataset } from '../support/fixture-dataset.js';
import { FIXTURE_DB, addressableFixture, readAddressableExpected } from '../fixtures/archive/addressable.js';
import {
  canonicalDocuments,
  canonicalIndexes,
  describeDatabase,
  findMongoTools,
  runTool,
  seedDatabase,
  type CollectionSnapshot,
} from '../fixtures/archive/mongo-tools.js';
import { startIndexNsProxy } from '../support/index-ns-proxy.js';
import { connectMongo, isFerretDb, mongodbUri, tempDir, uniqueDbName } from '../support/servers.js';

const tools = findMongoTools();
const suiteName = tools
  ? 'mongo-tools compatibility'
  : 'mongo-tools compatibility (skipped: mongodump/mongorestore not found in $SYRF_MONGO_TOOLS_BIN or PATH)';

describe.skipIf(!tools)(suiteName, () => {
  const dataset = fixtureDataset();
  let client: MongoClient;
  let work: ReturnType<typeof tempDir>;
  const dropAfter: string[] = [];

  beforeAll(async () => {
    client = await connectMongo();
    work = tempDir('syrf-mongo-tools-');
  });

  afterAll(async () => {
    for (const name of dropAfter) await client.db(name).dropDatabase().catch(() => undefined);
    await client?.close();
    work?.remove();
  });

  it('reads an archive written by mongodump --archive --gzip: documents, CRCs and index specs', async () => {
    const dbName = uniqueDbName('mt_dump_');
    dropAfter.push(dbName);
    const db = client.db(dbName);
    await seedDatabase(db, dataset);
    const onServer = await describeDatabase(db);
    const archive = join(work.path, 'dump.archive.gz');
    await runTool(tools!.mongodump, ['--uri', mongodbUri(), '--db', dbName, `--archive=${archive}`, '--gzip']);

    const read = await readWholeArchive(archive);
    expect(read.namespaces.sort()).toEqual(dataset.map((c) => c.name).sort());
    expect(read.ended.sort()).toEqual(dataset.map((c) => c.name).sort());
    for (const expected of onServer) {
      const got = read.collections.get(expected.name);
      expect(got?.documents, expected.name).toEqual(expected.documents);
      expect(got?.indexes, expected.name).toEqual(expected.indexes);
    }
  });

  const indexesOf = (name: string): Document[] => [
    { v: 2, key: { _id: 1 }, name: '_id_' },
    ...(dataset.find((c) => c.name === name)?.indexes ?? []).map((index) => ({ v: 2, ...index })),
  ];
  const collections = [...dataset.map((c) => c.name), 'emptyCollection'];

  /** The dataset plus an empty collection, segments of every collection interleaved as a parallel dump delivers them. */
  async function writeDataset(dbName: string, writer: Pick<ArchiveWriterLike, 'writePrelude' | 'writeSegment' | 'writeEof'>): Promise<void> {
    const serverVersion = String((await client.db('admin').command({ buildInfo: 1 })).version);
    await writer.writePrelude(
      { concurrentCollections: 1, version: '0.1', serverVersion, toolVersion: 'syrf-db-tools test' },
      collections.map((name) => ({
        db: dbName,
        collection: name,
        metadata: buildCollectionMetadata({ collectionName: name, type: 'collection', indexes: indexesOf(name) }),
        size: 0,
        type: 'collection',
      })),
    );
    const queues = dataset.map((c) => ({ name: c.name, documents: c.documents.map((d) => Buffer.from(BSON.serialize(d))) }));
    while (queues.some((q) => q.documents.length > 0)) {
      for (const queue of queues) await writer.writeSegment(dbName, queue.name, queue.documents.splice(0, 7));
    }
    for (const name of collections) await writer.writeEof(dbName, name);
  }

  async function mongorestore(archive: string): Promise<void> {
    // FerretDB rejects the `ns` index option mongorestore always sends (see index-ns-proxy.ts).
    const proxy = isFerretDb() ? await startIndexNsProxy(mongodbUri()) : undefined;
    try {
      await runTool(tools!.mongorestore, ['--uri', proxy?.uri ?? mongodbUri(), `--archive=${archive}`, '--gzip']);
    } finally {
      await proxy?.close();
    }
  }

  const expectedDataset = (): CollectionSnapshot[] =>
    collections
      .map((name) => ({
        name,
        documents: canonicalDocuments(dataset.find((c) => c.name === name)?.documents ?? []),
        indexes: canonicalIndexes(indexesOf(name)),
      }))
      .sort((a, b) => a.name.localeCompare(b.name));

  it('mongorestore --archive --gzip restores an archive our writer made, with identical documents and indexes', async () => {
    const dbName = uniqueDbName('mt_restore_');
    dropAfter.push(dbName);
    const archive = join(work.path, 'ours.archive.gz');
    const writer = createGzipArchiveWriter(createWriteStream(archive));
    await writeDataset(dbName, writer);
    await writer.end();
    await mongorestore(archive);
    expect(await describeDatabase(client.db(dbName))).toEqual(expectedDataset());
  });

  it('mongorestore --archive --gzip restores a collection-addressable archive (gzip members per collection) unchanged', async () => {
    const dbName = uniqueDbName('mt_addr_');
    dropAfter.push(dbName);
    const archive = join(work.path, 'addressable.archive.gz');
    const out = createWriteStream(archive);
    const writer = new AddressableArchiveWriter({ dir: work.path, out, blockBytes: 64 * 1024 });
    await writeDataset(dbName, writer);
    await writer.end();
    await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
    await mongorestore(archive);
    expect(await describeDatabase(client.db(dbName))).toEqual(expectedDataset());
  });

  it('the committed addressable fixtures: mongorestore loads exactly what addressable-expected.json records', async () => {
    const expected = readAddressableExpected();
    for (const edition of ['dump', 'preview'] as const) {
      const dbName = uniqueDbName(`mt_fx_${edition}_`);
      dropAfter.push(dbName);
      // The fixtures hold database syrf_fixture; restore each edition into a database of its own.
      const proxy = isFerretDb() ? await startIndexNsProxy(mongodbUri()) : undefined;
      try {
        await runTool(tools!.mongorestore, ['--uri', proxy?.uri ?? mongodbUri(), `--archive=${addressableFixture(edition)}`, '--gzip', `--nsFrom=${FIXTURE_DB}.*`, `--nsTo=${dbName}.*`]);
      } finally {
        await proxy?.close();
      }
      expect(await describeDatabase(client.db(dbName)), edition).toEqual(expected[edition]);
    }
  });
});

/** What both archive writers offer the shared dataset writer. */
interface ArchiveWriterLike {
  writePrelude(...args: Parameters<AddressableArchiveWriter['writePrelude']>): void | Promise<void>;
  writeSegment(db: string, collection: string, documents: readonly Buffer[]): Promise<void>;
  writeEof(db: string, collection: string): Promise<void>;
}

interface ReadArchive {
  namespaces: string[];
  ended: string[];
  collections: Map<string, { documents: string[]; indexes: string[] }>;
}

async function readWholeArchive(path: string): Promise<ReadArchive> {
  const result: ReadArchive = { namespaces: [], ended: [], collections: new Map() };
  const raw = new Map<string, Document[]>();
  for await (const event of openArchive(createReadStream(path), { source: path })) {
    if (event.type === 'prelude') {
      for (const entry of event.namespaces) {
        result.namespaces.push(entry.collection);
        const metadata = parseCollectionMetadata(entry.metadata);
        result.collections.set(entry.collection, { documents: [], indexes: canonicalIndexes(metadata.indexes) });
        raw.set(entry.collection, []);
        // The metadata must survive our parse → build unchanged, or re-written archives would drift.
        expect(buildCollectionMetadata(metadata)).toBe(entry.metadata);
      }
    } else if (event.type === 'segment') {
      raw.get(event.collection)!.push(...event.documents.map((d) => BSON.deserialize(d, { promoteValues: false })));
    } else {
      result.ended.push(event.collection);
    }
  }
  for (const [name, documents] of raw) result.collections.get(name)!.documents = canonicalDocuments(documents);
  return result;
}
