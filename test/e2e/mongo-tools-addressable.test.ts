/**
 * Live: `mongorestore --archive --gzip` restores a collection-addressable
 * archive (gzip members per collection) unchanged, with identical documents
 * and indexes. Needs mongorestore (SYRF_MONGO_TOOLS_BIN or PATH); without it
 * the unit tests show the file is one gzip stream of one valid archive.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BSON, type Document } from 'bson';
import type { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AddressableArchiveWriter } from '../../runtime/archive/addressable-writer.js';
import { buildCollectionMetadata } from '../../runtime/archive/metadata.js';
import { fixtureDataset } from '../support/fixture-dataset.js';
import { canonicalDocuments, canonicalIndexes, describeDatabase, findMongoTools, runTool, type CollectionSnapshot } from '../fixtures/archive/mongo-tools.js';
import { startIndexNsProxy } from '../support/index-ns-proxy.js';
import { connectMongo, isFerretDb, mongodbUri, tempDir, uniqueDbName } from '../support/servers.js';

const tools = findMongoTools();
const suiteName = tools ? 'mongo-tools and collection-addressable archives' : 'mongo-tools and collection-addressable archives (skipped: mongorestore not found in $SYRF_MONGO_TOOLS_BIN or PATH)';

describe.skipIf(!tools)(suiteName, () => {
  const dataset = fixtureDataset();
  let client: MongoClient;
  let work: ReturnType<typeof tempDir>;
  const dropAfter: string[] = [];

  beforeAll(async () => {
    client = await connectMongo();
    work = tempDir('syrf-mongo-tools-addressable-');
  });

  afterAll(async () => {
    for (const name of dropAfter) await client.db(name).dropDatabase().catch(() => undefined);
    await client?.close();
    work?.remove();
  });

  it('mongorestore --archive --gzip restores a collection-addressable archive with identical documents and indexes', async () => {
    const dbName = uniqueDbName('mt_addr_');
    dropAfter.push(dbName);
    const indexesOf = (name: string): Document[] => [
      { v: 2, key: { _id: 1 }, name: '_id_' },
      ...(dataset.find((c) => c.name === name)?.indexes ?? []).map((index) => ({ v: 2, ...index })),
    ];
    const collections = [...dataset.map((c) => c.name), 'emptyCollection'];
    const serverVersion = String((await client.db('admin').command({ buildInfo: 1 })).version);
    const writer = new AddressableArchiveWriter({ dir: work.path, blockBytes: 64 * 1024 });
    writer.writePrelude(
      { concurrentCollections: 1, version: '0.1', serverVersion, toolVersion: 'syrf-db-tools test' },
      collections.map((name) => ({ db: dbName, collection: name, metadata: buildCollectionMetadata({ collectionName: name, type: 'collection', indexes: indexesOf(name) }), size: 0, type: 'collection' })),
    );
    // Interleaved input, as a parallel dump delivers it; the writer still makes each collection contiguous.
    const queues = dataset.map((c) => ({ name: c.name, documents: c.documents.map((d) => Buffer.from(BSON.serialize(d))) }));
    while (queues.some((q) => q.documents.length > 0)) {
      for (const queue of queues) await writer.writeSegment(dbName, queue.name, queue.documents.splice(0, 7));
    }
    for (const name of collections) await writer.writeEof(dbName, name);
    const archive = join(work.path, 'addressable.archive.gz');
    writeFileSync(archive, Buffer.concat(writer.end().map((p) => ('bytes' in p.source ? p.source.bytes : readFileSync(p.source.path)))));

    const proxy = isFerretDb() ? await startIndexNsProxy(mongodbUri()) : undefined;
    try {
      await runTool(tools!.mongorestore, ['--uri', proxy?.uri ?? mongodbUri(), `--archive=${archive}`, '--gzip']);
    } finally {
      await proxy?.close();
    }
    const expected: CollectionSnapshot[] = collections
      .map((name) => ({ name, documents: canonicalDocuments(dataset.find((c) => c.name === name)?.documents ?? []), indexes: canonicalIndexes(indexesOf(name)) }))
      .sort((a, b) => a.name.localeCompare(b.name));
    expect(await describeDatabase(client.db(dbName))).toEqual(expected);
  });
});
