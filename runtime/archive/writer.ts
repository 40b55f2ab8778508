/**
 * Streaming writer for mongodump archives. Small pieces (headers, documents)
 * are gathered into larger output chunks, because a stream write per BSON
 * document (and a zlib call per write behind `--gzip`) would dominate the
 * cost; the output stream's backpressure is honoured between chunks.
 */
import { finished } from 'node:stream/promises';
import { Crc64 } from './crc64.js';
import { createParallelGzip } from './parallel-gzip.js';
import { ARCHIVE_FORMAT_VERSION, MAX_BSON_SIZE, MIN_BSON_SIZE, magicBytes, namespaceOf, terminatorBytes } from './format.js';
import { encodeArchiveHeader, encodeNamespaceHeader, encodeNamespaceMetadata } from './prelude.js';
import type { ArchiveEvent, ArchiveHeader, NamespaceMetadata } from './types.js';

export type ArchiveOutput = NodeJS.WritableStream;

export interface ArchiveWriterOptions {
  /** Pieces are gathered up to about this many bytes before one write (default 1 MiB). */
  chunkBytes?: number;
  /** Also awaited by end(), e.g. the pipeline behind a gzip stream. */
  completion?: Promise<void>;
}

interface NamespaceWriteState {
  db: string;
  collection: string;
  crc: Crc64;
  documents: number;
  ended: boolean;
  /** Encoded once: the header that opens each segment of this namespace. */
  segmentHeader: Buffer;
}

const TERMINATOR = terminatorBytes();
const TIMESERIES_BUCKETS_PREFIX = 'system.buckets.';
/** What mongorestore's version parser accepts: three numbers, then an optional -/+ build suffix. */
const SERVER_VERSION = /^\d+\.\d+\.\d+(?:[-+].*)?$/;

/** Documents written per namespace, for manifests and progress. */
export interface NamespaceWriteSummary {
  db: string;
  collection: string;
  documents: number;
}

export class ArchiveWriter {
  private readonly out: ArchiveOutput;
  private readonly chunkBytes: number;
  private readonly completion: Promise<void> | undefined;
  private pieces: Buffer[] = [];
  private pendingBytes = 0;
  private preludeWritten = false;
  private ended = false;
  private readonly declared = new Map<string, NamespaceMetadata>();
  private readonly namespaces = new Map<string, NamespaceWriteState>();
  private failure: Error | undefined;
  private bytesWritten = 0;

  constructor(out: ArchiveOutput, options: ArchiveWriterOptions = {}) {
    this.out = out;
    this.chunkBytes = options.chunkBytes ?? 1024 * 1024;
    this.completion = options.completion;
    // Remember the first failure so a write never waits forever for a 'drain' that cannot come.
    out.on('error', (error: Error) => {
      this.failure ??= error;
    });
    out.on('close', () => {
      if (!this.ended) this.failure ??= new Error('the archive output closed before the archive was finished');
    });
  }

  /** Uncompressed archive bytes handed to the output so far. */
  get bytes(): number {
    return this.bytesWritten + this.pendingBytes;
  }

  async writePrelude(header: ArchiveHeader, namespaces: readonly NamespaceMetadata[]): Promise<void> {
    this.assertOpen();
    if (this.preludeWritten) throw new Error('ArchiveWriter: the prelude was already written');
    if (!SERVER_VERSION.test(header.serverVersion)) {
      // mongorestore parses it and refuses the whole archive when it is not MAJOR.MINOR.PATCH.
      throw new Error(`ArchiveWriter: serverVersion must look like "7.0.12", got "${header.serverVersion}"`);
    }
    for (const entry of namespaces) {
      const namespace = namespaceOf(entry.db, entry.collection);
      if (this.declared.has(namespace)) throw new Error(`ArchiveWriter: namespace ${namespace} listed twice in the prelude`);
      this.declared.set(namespace, entry);
    }
    this.preludeWritten = true;
    this.add(magicBytes());
    this.add(encodeArchiveHeader({ ...header, version: header.version || ARCHIVE_FORMAT_VERSION }));
    for (const entry of namespaces) this.add(encodeNamespaceMetadata(entry));
    this.add(TERMINATOR);
    await this.flushIfFull();
  }

  /** One namespace header, the documents, one terminator. An empty list writes nothing. */
  async writeSegment(db: string, collection: string, documents: readonly Buffer[]): Promise<void> {
    const state = this.stateFor(db, collection);
    if (documents.length === 0) return;
    this.add(state.segmentHeader);
    // Documents from the reader are usually adjacent views of one input chunk:
    // checksum and queue each run of them as one piece rather than one by one.
    let run = documents[0]!;
    let runLength = 0;
    for (const document of documents) {
      assertDocument(document, db, collection);
      if (runLength > 0 && (document.buffer !== run.buffer || document.byteOffset !== run.byteOffset + runLength)) {
        this.addRun(state, run, runLength);
        run = document;
        runLength = 0;
      }
      runLength += document.length;
    }
    this.addRun(state, run, runLength);
    state.documents += documents.length;
    this.add(TERMINATOR);
    await this.flushIfFull();
  }

  /** Ends a namespace with its EOF header carrying the CRC-64 of every document written for it. */
  async writeEof(db: string, collection: string): Promise<void> {
    const state = this.stateFor(db, collection);
    state.ended = true;
    this.add(encodeNamespaceHeader({ db, collection, eof: true, crc: state.crc.digest() }));
    this.add(TERMINATOR);
    await this.flushIfFull();
  }

  /** Flushes, ends the output and waits until it has finished. Every prelude namespace must have ended. */
  async end(): Promise<NamespaceWriteSummary[]> {
    this.assertOpen();
    if (!this.preludeWritten) throw new Error('ArchiveWriter: end() before writePrelude()');
    const missing = [...this.declared.keys()].filter((namespace) => !this.isDeclaredEnded(namespace));
    if (missing.length > 0) throw new Error(`ArchiveWriter: no EOF written for ${missing.join(', ')}`);
    await this.flush();
    this.ended = true;
    const done = finished(this.out, { readable: false });
    this.out.end();
    await done;
    await this.completion;
    return [...this.namespaces.values()].map(({ db, collection, documents }) => ({ db, collection, documents }));
  }

  private stateFor(db: string, collection: string): NamespaceWriteState {
    this.assertOpen();
    if (!this.preludeWritten) throw new Error('ArchiveWriter: write the prelude before any namespace data');
    const namespace = namespaceOf(db, collection);
    let state = this.namespaces.get(namespace);
    if (state === undefined) {
      if (!this.declared.has(namespace) && !this.isTimeseriesBuckets(db, collection)) {
        throw new Error(`ArchiveWriter: namespace ${namespace} is not in the prelude`);
      }
      state = {
        db,
        collection,
        crc: new Crc64(),
        documents: 0,
        ended: false,
        segmentHeader: encodeNamespaceHeader({ db, collection, eof: false, crc: 0n }),
      };
      this.namespaces.set(namespace, state);
    }
    if (state.ended) throw new Error(`ArchiveWriter: namespace ${namespace} already has its EOF`);
    return state;
  }

  private isTimeseriesBuckets(db: string, collection: string): boolean {
    if (!collection.startsWith(TIMESERIES_BUCKETS_PREFIX)) return false;
    return this.declared.get(namespaceOf(db, collection.slice(TIMESERIES_BUCKETS_PREFIX.length)))?.type === 'timeseries';
  }

  private isDeclaredEnded(namespace: string): boolean {
    if (this.namespaces.get(namespace)?.ended) return true;
    const entry = this.declared.get(namespace)!;
    if (entry.type !== 'timeseries') return false;
    return this.namespaces.get(namespaceOf(entry.db, TIMESERIES_BUCKETS_PREFIX + entry.collection))?.ended ?? false;
  }

  private assertOpen(): void {
    if (this.failure) throw this.failure;
    if (this.ended) throw new Error('ArchiveWriter: already ended');
  }

  private addRun(state: NamespaceWriteState, first: Buffer, length: number): void {
    const piece = length === first.length ? first : Buffer.from(first.buffer, first.byteOffset, length);
    state.crc.update(piece);
    this.add(piece);
  }

  private add(piece: Buffer): void {
    this.pieces.push(piece);
    this.pendingBytes += piece.length;
  }

  private async flushIfFull(): Promise<void> {
    if (this.pendingBytes >= this.chunkBytes) await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.pendingBytes === 0) return;
    const chunk = this.pieces.length === 1 ? this.pieces[0]! : Buffer.concat(this.pieces, this.pendingBytes);
    this.bytesWritten += this.pendingBytes;
    this.pieces = [];
    this.pendingBytes = 0;
    if (this.failure) throw this.failure;
    if (!this.out.write(chunk)) await this.drained();
    if (this.failure) throw this.failure;
  }

  private drained(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.out.off('drain', done);
        this.out.off('error', done);
        this.out.off('close', done);
        resolve();
      };
      this.out.on('drain', done);
      this.out.on('error', done);
      this.out.on('close', done);
    });
  }
}

function assertDocument(document: Buffer, db: string, collection: string): void {
  const length = document.length >= 4 ? document.readInt32LE(0) : -1;
  if (length !== document.length || length < MIN_BSON_SIZE || length > MAX_BSON_SIZE || document[length - 1] !== 0) {
    throw new Error(`ArchiveWriter: not a BSON document (${document.length} bytes) for ${namespaceOf(db, collection)}`);
  }
}

/**
 * An ArchiveWriter whose bytes go through gzip into `out`, as
 * `mongodump --archive --gzip` writes (compressed on several cores as
 * concatenated gzip members, which every gzip reader takes as one stream;
 * see parallel-gzip.ts). `end()` resolves once `out` has received everything.
 */
export function createGzipArchiveWriter(
  out: NodeJS.WritableStream,
  options: { level?: number; chunkBytes?: number } = {},
): ArchiveWriter {
  const gzip = createParallelGzip({ level: options.level ?? 6 });
  const piped = new Promise<void>((resolve, reject) => {
    gzip.on('error', reject);
    out.on('error', (error: Error) => {
      gzip.destroy(error);
      reject(error);
    });
    out.on('finish', resolve);
    out.on('close', resolve);
  });
  // end() awaits this; until then a failure reaches the writer through gzip's 'error'.
  piped.catch(() => {});
  gzip.pipe(out);
  return new ArchiveWriter(gzip, { completion: piped, chunkBytes: options.chunkBytes });
}

/** Writes a stream of events (e.g. a reader, possibly transformed) to a writer; does not end it. */
export async function writeEvents(events: AsyncIterable<ArchiveEvent>, writer: ArchiveWriter): Promise<void> {
  for await (const event of events) {
    switch (event.type) {
      case 'prelude':
        await writer.writePrelude(event.header, event.namespaces);
        break;
      case 'segment':
        await writer.writeSegment(event.db, event.collection, event.documents);
        break;
      case 'eof':
        // The writer computes its own CRC: transforms may have changed the documents.
        await writer.writeEof(event.db, event.collection);
        break;
    }
  }
}
