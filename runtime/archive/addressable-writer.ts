/**
 * A mongodump archive writer whose output is collection-addressable: the
 * prelude and each namespace (all its segments, then its EOF header) are
 * compressed into gzip members of their own, in separate part files, so that
 * the parts concatenated are one valid gzip stream of one valid archive
 * (what `mongorestore --archive --gzip` reads), while each collection is one
 * contiguous byte range that decompresses on its own.
 *
 * Segments may arrive interleaved (a parallel dump); each namespace's bytes
 * go to its own part file as they come, so no collection is held in memory
 * and deflate still runs on several cores inside a part.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { gzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import { Crc64 } from './crc64.js';
import { ParallelGzip } from './parallel-gzip.js';
import { ARCHIVE_FORMAT_VERSION, MAX_BSON_SIZE, MIN_BSON_SIZE, magicBytes, namespaceOf, terminatorBytes } from './format.js';
import { encodeArchiveHeader, encodeNamespaceHeader, encodeNamespaceMetadata } from './prelude.js';
import type { ArchiveEvent, ArchiveHeader, NamespaceMetadata } from './types.js';
import { HashingStream } from '../util/hashing-stream.js';

/** One part of the archive, compressed, waiting in a file (or, for the small prelude, in memory). */
export interface ArchivePart {
  /** `null` for the prelude. */
  collection: string | null;
  db: string;
  /** Compressed bytes. */
  length: number;
  uncompressedBytes: number;
  /** sha256 of the compressed bytes. */
  sha256: string;
  documents: number;
  /** The compressed bytes: a file path, or the bytes themselves. */
  source: { path: string } | { bytes: Buffer };
}

export interface AddressableWriterOptions {
  /** Where part files are written (the caller removes the directory). */
  dir: string;
  level?: number;
  /** Input bytes per gzip member inside a part (default 1 MiB). */
  blockBytes?: number;
  /** Pieces gathered before one write into a part's compressor (default 256 KiB). */
  chunkBytes?: number;
}

const TERMINATOR = terminatorBytes();
const BUCKETS_PREFIX = 'system.buckets.';
const SERVER_VERSION = /^\d+\.\d+\.\d+(?:[-+].*)?$/;

class PartWriter {
  readonly crc = new Crc64();
  documents = 0;
  uncompressed = 0;
  ended = false;
  private pieces: Buffer[] = [];
  private pending = 0;
  private readonly gzip: ParallelGzip;
  private readonly hasher = new HashingStream();
  private readonly file: WriteStream;
  private failure: Error | undefined;
  private readonly done: Promise<void>;

  constructor(
    readonly db: string,
    readonly collection: string,
    readonly path: string,
    private readonly options: { level: number; blockBytes: number; chunkBytes: number },
  ) {
    this.gzip = new ParallelGzip({ level: options.level, blockBytes: options.blockBytes, concurrency: 2 });
    this.file = createWriteStream(path, { flags: 'wx', mode: 0o600 });
    const remember = (error: Error) => {
      this.failure ??= error;
    };
    this.gzip.on('error', remember);
    this.hasher.on('error', remember);
    this.file.on('error', remember);
    this.gzip.pipe(this.hasher).pipe(this.file);
    this.done = finished(this.file).catch((error: Error) => {
      this.failure ??= error;
    });
  }

  add(piece: Buffer): void {
    this.pieces.push(piece);
    this.pending += piece.length;
    this.uncompressed += piece.length;
  }

  async flushIfFull(): Promise<void> {
    if (this.pending >= this.options.chunkBytes) await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.pending === 0) return;
    const chunk = this.pieces.length === 1 ? this.pieces[0]! : Buffer.concat(this.pieces, this.pending);
    this.pieces = [];
    this.pending = 0;
    if (!this.gzip.write(chunk)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          this.gzip.off('drain', done);
          this.gzip.off('error', done);
          this.gzip.off('close', done);
          resolve();
        };
        this.gzip.on('drain', done);
        this.gzip.on('error', done);
        this.gzip.on('close', done);
      });
    }
    if (this.failure) throw this.failure;
  }

  async finish(): Promise<ArchivePart> {
    await this.flush();
    this.gzip.end();
    await this.done;
    if (this.failure) throw this.failure;
    return {
      collection: this.collection,
      db: this.db,
      length: this.hasher.bytes,
      uncompressedBytes: this.uncompressed,
      sha256: this.hasher.digest(),
      documents: this.documents,
      source: { path: this.path },
    };
  }

  destroy(): void {
    this.gzip.destroy();
    this.file.destroy();
  }
}

export class AddressableArchiveWriter {
  private prelude: ArchivePart | undefined;
  private readonly declared = new Map<string, NamespaceMetadata>();
  private readonly parts = new Map<string, PartWriter>();
  private readonly finished = new Map<string, ArchivePart>();
  private readonly settings: { level: number; blockBytes: number; chunkBytes: number };
  private ended = false;

  constructor(private readonly options: AddressableWriterOptions) {
    this.settings = { level: options.level ?? 6, blockBytes: options.blockBytes ?? 1024 * 1024, chunkBytes: options.chunkBytes ?? 256 * 1024 };
  }

  writePrelude(header: ArchiveHeader, namespaces: readonly NamespaceMetadata[]): void {
    this.assertOpen();
    if (this.prelude) throw new Error('AddressableArchiveWriter: the prelude was already written');
    if (!SERVER_VERSION.test(header.serverVersion)) {
      throw new Error(`AddressableArchiveWriter: serverVersion must look like "7.0.12", got "${header.serverVersion}"`);
    }
    for (const entry of namespaces) {
      const namespace = namespaceOf(entry.db, entry.collection);
      if (this.declared.has(namespace)) throw new Error(`AddressableArchiveWriter: namespace ${namespace} listed twice in the prelude`);
      this.declared.set(namespace, entry);
    }
    const plain = Buffer.concat([
      magicBytes(),
      encodeArchiveHeader({ ...header, version: header.version || ARCHIVE_FORMAT_VERSION }),
      ...namespaces.map((entry) => encodeNamespaceMetadata(entry)),
      TERMINATOR,
    ]);
    const bytes = gzipSync(plain, { level: this.settings.level });
    this.prelude = {
      collection: null,
      db: namespaces[0]?.db ?? '',
      length: bytes.length,
      uncompressedBytes: plain.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      documents: 0,
      source: { bytes },
    };
  }

  async writeSegment(db: string, collection: string, documents: readonly Buffer[]): Promise<void> {
    if (documents.length === 0) {
      this.partFor(db, collection);
      return;
    }
    const part = this.partFor(db, collection);
    part.add(encodeNamespaceHeader({ db, collection, eof: false, crc: 0n }));
    for (const document of documents) {
      const length = document.length >= 4 ? document.readInt32LE(0) : -1;
      if (length !== document.length || length < MIN_BSON_SIZE || length > MAX_BSON_SIZE || document[length - 1] !== 0) {
        throw new Error(`AddressableArchiveWriter: not a BSON document (${document.length} bytes) for ${namespaceOf(db, collection)}`);
      }
      part.crc.update(document);
      part.add(document);
    }
    part.documents += documents.length;
    part.add(TERMINATOR);
    await part.flushIfFull();
  }

  /** Ends the namespace: its EOF header with the CRC-64 of its documents closes its part file. */
  async writeEof(db: string, collection: string): Promise<void> {
    const part = this.partFor(db, collection);
    part.ended = true;
    part.add(encodeNamespaceHeader({ db, collection, eof: true, crc: part.crc.digest() }));
    part.add(TERMINATOR);
    this.finished.set(namespaceOf(db, collection), await part.finish());
  }

  /**
   * The parts in file order: the prelude, then the namespaces in prelude
   * order (a time-series collection's buckets right before it). Every
   * namespace of the prelude must have ended.
   */
  end(): ArchivePart[] {
    this.assertOpen();
    if (!this.prelude) throw new Error('AddressableArchiveWriter: end() before writePrelude()');
    const order: ArchivePart[] = [this.prelude];
    for (const [namespace, entry] of this.declared) {
      const buckets = this.finished.get(namespaceOf(entry.db, BUCKETS_PREFIX + entry.collection));
      if (buckets) order.push(buckets);
      const own = this.finished.get(namespace);
      if (own) order.push(own);
      else if (!(entry.type === 'timeseries' && buckets)) throw new Error(`AddressableArchiveWriter: no EOF written for ${namespace}`);
    }
    const unfinished = [...this.parts.values()].filter((part) => !part.ended);
    if (unfinished.length > 0) throw new Error(`AddressableArchiveWriter: no EOF written for ${unfinished.map((p) => namespaceOf(p.db, p.collection)).join(', ')}`);
    this.ended = true;
    return order;
  }

  /** Stops every part still being written (after a failure). */
  abort(): void {
    this.ended = true;
    for (const part of this.parts.values()) if (!part.ended) part.destroy();
  }

  private partFor(db: string, collection: string): PartWriter {
    this.assertOpen();
    if (!this.prelude) throw new Error('AddressableArchiveWriter: write the prelude before any namespace data');
    const namespace = namespaceOf(db, collection);
    let part = this.parts.get(namespace);
    if (!part) {
      const owner = collection.startsWith(BUCKETS_PREFIX) ? this.declared.get(namespaceOf(db, collection.slice(BUCKETS_PREFIX.length))) : undefined;
      if (!this.declared.has(namespace) && owner?.type !== 'timeseries') {
        throw new Error(`AddressableArchiveWriter: namespace ${namespace} is not in the prelude`);
      }
      part = new PartWriter(db, collection, join(this.options.dir, `part-${this.parts.size}.gz`), this.settings);
      this.parts.set(namespace, part);
    }
    if (part.ended) throw new Error(`AddressableArchiveWriter: namespace ${namespace} already has its EOF`);
    return part;
  }

  private assertOpen(): void {
    if (this.ended) throw new Error('AddressableArchiveWriter: already ended');
  }
}

/** Feeds an event stream into the writer; the caller calls end(). */
export async function writeEventsAddressable(events: AsyncIterable<ArchiveEvent>, writer: AddressableArchiveWriter): Promise<void> {
  for await (const event of events) {
    if (event.type === 'prelude') writer.writePrelude(event.header, event.namespaces);
    else if (event.type === 'segment') await writer.writeSegment(event.db, event.collection, event.documents);
    else await writer.writeEof(event.db, event.collection);
  }
}
