/** Builders for archive tests: write archives to memory, feed them back in chosen chunk sizes. */
import { Writable } from 'node:stream';
import { BSON, type Document } from 'bson';
import { ArchiveWriter } from '../../../runtime/archive/writer.js';
import type { ArchiveEvent, ArchiveHeader, NamespaceMetadata } from '../../../runtime/archive/types.js';
import { buildCollectionMetadata } from '../../../runtime/archive/metadata.js';

export const HEADER: ArchiveHeader = {
  concurrentCollections: 4,
  version: '0.1',
  serverVersion: '7.0.12',
  toolVersion: 'syrf-db-tools test',
};

export function namespace(db: string, collection: string, type = 'collection'): NamespaceMetadata {
  return {
    db,
    collection,
    metadata: buildCollectionMetadata({ collectionName: collection, type, indexes: [{ v: 2, key: { _id: 1 }, name: '_id_' }] }),
    size: 0,
    type,
  };
}

export function bson(document: Document): Buffer {
  return Buffer.from(BSON.serialize(document));
}

/** A Writable that keeps everything written to it. */
export class MemorySink extends Writable {
  readonly chunks: Buffer[] = [];
  constructor(options: { highWaterMark?: number; delayMs?: number } = {}) {
    super({
      highWaterMark: options.highWaterMark,
      write: (chunk: Buffer, _encoding, callback) => {
        this.chunks.push(chunk);
        if (options.delayMs === undefined) callback();
        else setTimeout(callback, options.delayMs);
      },
    });
  }
  get bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

export async function writeArchive(build: (writer: ArchiveWriter) => Promise<void>, chunkBytes?: number): Promise<Buffer> {
  const sink = new MemorySink();
  const writer = new ArchiveWriter(sink, { chunkBytes });
  await build(writer);
  await writer.end();
  return sink.bytes;
}

/** Yields `bytes` cut at the given positions. */
export async function* split(bytes: Uint8Array, cuts: readonly number[] = []): AsyncGenerator<Buffer> {
  let start = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    if (cut <= start || cut >= bytes.length) continue;
    yield Buffer.from(bytes.subarray(start, cut));
    start = cut;
  }
  yield Buffer.from(bytes.subarray(start));
}

/** Yields `bytes` in pieces of `size` bytes. */
export async function* inPieces(bytes: Uint8Array, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < bytes.length; i += size) yield Buffer.from(bytes.subarray(i, i + size));
}

export async function collect(events: AsyncIterable<ArchiveEvent>): Promise<ArchiveEvent[]> {
  const all: ArchiveEvent[] = [];
  for await (const event of events) all.push(event);
  return all;
}

/** Per namespace: the documents (hex, in order) and the EOF CRC — independent of how segments were batched. */
export function summarize(events: readonly ArchiveEvent[]): Record<string, { documents: string[]; crc?: bigint }> {
  const out: Record<string, { documents: string[]; crc?: bigint }> = {};
  for (const event of events) {
    if (event.type === 'prelude') continue;
    const entry = (out[`${event.db}.${event.collection}`] ??= { documents: [] });
    if (event.type === 'segment') entry.documents.push(...event.documents.map((d) => d.toString('hex')));
    else entry.crc = event.crc;
  }
  return out;
}

export async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection, but it resolved');
}
