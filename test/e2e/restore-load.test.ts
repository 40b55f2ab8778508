/**
 * The batched loader behind every restore and clone: whatever the document
 * sizes, every document arrives with its exact BSON types, and a refused
 * insert fails the load loudly instead of leaving a short collection.
 */
import { BSON, Double, Int32, Long, type Document } from 'bson';
import type { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCollectionMetadata } from '../../runtime/archive/metadata.js';
import type { ArchiveEvent } from '../../runtime/archive/types.js';
import { silentLogger } from '../../runtime/ops/log.js';
import { loadIntoTemporaryCollections } from '../../runtime/restore/load.js';
import { connectMongo, uniqueDbName } from '../support/servers.js';

function events(collection: string, documents: Document[], segmentSize = 7): ArchiveEvent[] {
  const raw = documents.map((doc) => Buffer.from(BSON.serialize(doc)));
  const out: ArchiveEvent[] = [
    {
      type: 'prelude',
      header: { concurrentCollections: 1, version: '0.1', serverVersion: '7.0.0', toolVersion: 'test' },
      namespaces: [{ db: 'src', collection, metadata: buildCollectionMetadata({ collectionName: collection, indexes: [{ v: 2, key: { _id: 1 }, name: '_id_' }] }), size: 0, type: '' }],
    },
  ];
  for (let i = 0; i < raw.length; i += segmentSize) out.push({ type: 'segment', db: 'src', collection, documents: raw.slice(i, i + segmentSize) });
  out.push({ type: 'eof', db: 'src', collection, crc: 0n });
  return out;
}

async function* stream(list: ArchiveEvent[]): AsyncGenerator<ArchiveEvent> {
  yield* list;
}

describe('loading archive documents into temporary collections', () => {
  let client: MongoClient;
  const dbName = uniqueDbName('syrf_pr_');

  beforeAll(async () => {
    client = await connectMongo();
  });
  afterAll(async () => {
    await client.db(dbName).dropDatabase();
    await client.close();
  });

  it('loads documents larger than a batch, and many small ones around them, each exactly once with its BSON types', async () => {
    const big = 'x'.repeat(600 * 1024);
    const documents = Array.from({ length: 40 }, (_, i) => ({
      _id: new Int32(i),
      Payload: i % 10 === 3 ? big : `small ${i}`,
      Count: new Long(i),
      Ratio: new Double(1),
    }));
    const [loaded] = await loadIntoTemporaryCollections(client.db(dbName), stream(events('mixed', documents)), {
      logger: silentLogger,
      label: 'test',
      batchSize: 5,
      batchBytes: 256 * 1024,
      concurrency: 3,
    });
    expect(loaded!.documents).toBe(40);
    const stored = await client
      .db(dbName)
      .collection(loaded!.temp)
      .find({}, { sort: { _id: 1 }, promoteValues: false, promoteLongs: false })
      .toArray();
    expect(stored.map((doc) => (doc._id as unknown as Int32).value)).toEqual(documents.map((_, i) => i));
    expect(stored[13]!.Payload).toBe(big);
    // A double 1.0 must not come back as an integer, nor an Int64 as an Int32. (The driver has its own
    // copy of the bson classes, so the type is checked by its tag rather than with instanceof.)
    expect((stored[5]!.Ratio as Double)._bsontype).toBe('Double');
    expect((stored[5]!.Count as Long)._bsontype).toBe('Long');
  });

  it('fails the load, naming the collection and the server\'s reason, when the server refuses documents', async () => {
    const documents = [{ _id: 1, a: 1 }, { _id: 2, a: 2 }, { _id: 1, a: 3 }];
    const failure = loadIntoTemporaryCollections(client.db(dbName), stream(events('duplicates', documents)), { logger: silentLogger, label: 'test' });
    await expect(failure).rejects.toThrow(/inserting into duplicates failed: 1 of 3 documents were refused.*(duplicate|E11000)/i);
  });
});
