/**
 * Writes a bench dataset straight into a mongodump archive file (gzip),
 * one collection after the other, without a server: how the 4× archive
 * for the memory check is made, and the input of the filter benchmarks.
 */
import { createWriteStream } from 'node:fs';
import { BSON } from 'bson';
import { buildCollectionMetadata } from '../runtime/archive/metadata.js';
import { createGzipArchiveWriter } from '../runtime/archive/writer.js';
import type { ArchiveEvent, NamespaceMetadata } from '../runtime/archive/types.js';
import type { BenchCollection } from './dataset.js';

/** Matches what a 7.0 mongod reports, so mongorestore accepts the archive. */
export const BENCH_SERVER_VERSION = '7.0.0';
const SEGMENT_BYTES = 1 << 20;

export function datasetNamespaces(db: string, collections: readonly BenchCollection[]): NamespaceMetadata[] {
  return collections.map((c) => ({
    db,
    collection: c.name,
    metadata: buildCollectionMetadata({
      collectionName: c.name,
      type: 'collection',
      indexes: [{ v: 2, key: { _id: 1 }, name: '_id_' }, ...c.indexes.map((index) => ({ v: 2, ...index }))],
    }),
    size: 0,
    type: '',
  }));
}

/** The dataset as archive events (a prelude, then each collection's segments and EOF). */
export async function* datasetEvents(db: string, collections: readonly BenchCollection[]): AsyncGenerator<ArchiveEvent> {
  yield {
    type: 'prelude',
    header: { concurrentCollections: 1, version: '0.1', serverVersion: BENCH_SERVER_VERSION, toolVersion: 'syrf-db-tools bench' },
    namespaces: datasetNamespaces(db, collections),
  };
  for (const collection of collections) {
    let documents: Buffer[] = [];
    let bytes = 0;
    for (const doc of collection.documents()) {
      const encoded = Buffer.from(BSON.serialize(doc));
      documents.push(encoded);
      bytes += encoded.length;
      if (bytes >= SEGMENT_BYTES) {
        yield { type: 'segment', db, collection: collection.name, documents };
        documents = [];
        bytes = 0;
      }
    }
    if (documents.length > 0) yield { type: 'segment', db, collection: collection.name, documents };
    yield { type: 'eof', db, collection: collection.name, crc: 0n };
  }
}

/** Writes events as a gzip archive file; returns the uncompressed archive size. */
export async function writeArchiveFile(events: AsyncIterable<ArchiveEvent>, path: string, level = 6): Promise<number> {
  const writer = createGzipArchiveWriter(createWriteStream(path), { level });
  for await (const event of events) {
    if (event.type === 'prelude') await writer.writePrelude(event.header, event.namespaces);
    else if (event.type === 'segment') await writer.writeSegment(event.db, event.collection, event.documents);
    else await writer.writeEof(event.db, event.collection);
  }
  const bytes = writer.bytes;
  await writer.end();
  return bytes;
}
