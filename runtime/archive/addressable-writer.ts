/**
 * A mongodump archive writer whose output is collection-addressable: the
 * prelude and each namespace (all its segments, then its EOF header) are
 * compressed into gzip members of their own and written to the output one
 * after another, so that the output is one valid gzip stream of one valid
 * archive (what `mongorestore --archive --gzip` reads), while each
 * collection is one contiguous byte range that decompresses on its own.
 *
 * The output is written as the archive is made (the table of contents is
 * computed on the way), not staged whole: one namespace at a time streams
 * straight into the output; a namespace whose segments arrive while another
 * one streams (a parallel dump interleaves them) is compressed into a
 * scratch file and copied in as soon as the output is free. Scratch space is
 * therefore at most the compressed size of the namespaces dumped
 * concurrently with the streaming one, none at all for a sequential input.
 * The namespaces' order in the file is the order they were streamed; a
 * reader finds them by the table of contents, mongorestore by their headers.
 */
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import { Crc64 } from './crc64.js';
import { ParallelGzip } from './parallel-gzip.js';
import { ARCHIVE_FORMAT_VERSION, MAX_BSON_SIZE, MIN_BSON_SIZE, magicBytes, namespaceOf, terminatorBytes } from './format.js';
import { encodeArchiveHeader, encodeNamespaceHeader, encodeNamespaceMetadata } from './prelude.js';
import type { ArchiveEvent, ArchiveHeader, NamespaceMetadata } from './types.js';

/** One part of the archive as written: where it is and what it holds. */
export interface ArchivePart {
  /** `null` for the prelude. */
  collection: string | null;
  db: string;
  /** First byte in the output. */
  offset: number;
  /** Compressed bytes. */
  length: number;
  uncompressedBytes: number;
  /** sha256 of the compressed bytes. */
  sha256: string;
  documents: number;
}

export interface AddressableWriterOptions {
  /** Where scratch files of interleaved namespaces go (the caller removes the directory). */
  dir: string;
  /** The archive's bytes, in order. The writer never ends it: the caller ends it only after end() succeeded. */
  out: Writable;
  level?: number;
  /** Input bytes per gzip member inside a part (default 1 MiB). */
  blockBytes?: number;
  /** Pieces gathered before one write into a part's compressor (default 256 KiB). */
  chunkBytes?: number;
}

const TERMINATOR = terminatorBytes();
const BUCKETS_PREFIX = 'system.buckets.';
const SERVER_VERSION = /^\d+\.\d+\.\d+(?:[-+].*)?$/;

/** Waits until `stream` accepts more, or fails when it is destroyed (an upload that gave up). */
async function writeTo(stream: Writable, chunk: Buffer): Promise<void> {
  if (stream.destroyed || stream.writableEnded) throw new Error('AddressableArchiveWriter: the output was closed before the archive was complete');
  if (stream.write(chunk)) return;
  await new Promise<void>((resolve, reject) => {
    const done = (error?: Error) => {
      stream.off('drain', onDrain);
      stream.off('error', onError);
      stream.off('close', onClose);
      if (error) reject(error);
      else resolve();
    };
    const onDrain = () => done();
    const onError = (error: Error) => done(error);
    const onClose = () => done(new Error('AddressableArchiveWriter: the output was closed before the archive was complete'));
    stream.on('drain', onDrain);
    stream.on('error', onError);
    stream.on('close', onClose);
  });
}

async function closeFile(file: WriteStream): Promise<void> {
  if (file.closed) return;
  await new Promise<void>((resolve, reject) => {
    file.once('close', resolve);
    file.once('error', reject);
    file.end();
  });
}

/** Shared by every part: the output, the running offset and the whole file's hash. */
class Output {
  bytes = 0;
  constructor(private readonly out: Writable) {}

  async write(chunk: Buffer): Promise<void> {
    await writeTo(this.out, chunk);
    this.bytes += chunk.length;
  }

  async copyFile(path: string): Promise<void> {
    for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) await this.write(chunk);
  }
}

class PartWriter {
  readonly crc = new Crc64();
  documents = 0;
  uncompressed = 0;
  ended = false;
  /** Set once the part streams (or was copied) into the output. */
  offset = -1;
  private pieces: Buffer[] = [];
  private pending = 0;
  private readonly gzip: ParallelGzip;
  private readonly hash = createHash('sha256');
  private compressed = 0;
  private file: WriteStream | null = null;
  private live = false;
  /** Orders the part's writes and its move from scratch file to output. */
  private lock: Promise<void> = Promise.resolve();
  private failure: Error | undefined;
  /** Settles when every compressed byte was written to the file or the output. */
  private readonly drained: Promise<void>;

  constructor(
    readonly db: string,
    readonly collection: string,
    private readonly path: string,
    private readonly output: Output,
    private readonly options: { level: number; blockBytes: number; chunkBytes: number },
  ) {
    this.gzip = new ParallelGzip({ level: options.level, blockBytes: options.blockBytes, concurrency: 2 });
    this.gzip.on('error', (error: Error) => {
      this.failure ??= error;
    });
    this.drained = this.consume().catch((error: Error) => {
      this.failure ??= error;
      this.gzip.destroy();
    });
  }

  /** Bytes waiting in the scratch file (what streaming this part now would save). */
  get scratchBytes(): number {
    return this.live ? 0 : this.compressed;
  }

  add(piece: Buffer): void {
    this.pieces.push(piece);
    this.pending += piece.length;
    this.uncompressed += piece.length;
  }

  async flushIfFull(): Promise<void> {
    if (this.pending >= this.options.chunkBytes) await this.flush();
  }

  /** From now on the part goes to the output: what is in its scratch file first, then the rest as it comes. */
  async goLive(): Promise<void> {
    this.offset = this.output.bytes;
    await this.serialized(async () => {
      if (this.file) {
        await closeFile(this.file);
        await this.output.copyFile(this.path);
        await rm(this.path, { force: true });
      }
      this.live = true;
    });
  }

  /** Every byte of the part is in the output (after goLive and writeEof). */
  async untilWritten(): Promise<ArchivePart> {
    await this.drained;
    await this.lock;
    if (this.failure) throw this.failure;
    return {
      collection: this.collection,
      db: this.db,
      offset: this.offset,
      length: this.compressed,
      uncompressedBytes: this.uncompressed,
      sha256: this.hash.digest('hex'),
      documents: this.documents,
    };
  }

  async finish(): Promise<void> {
    await this.flush();
    this.gzip.end();
    if (this.failure) throw this.failure;
  }

  destroy(): void {
    this.failure ??= new Error('AddressableArchiveWriter: aborted');
    this.gzip.destroy();
    this.file?.destroy();
  }

  private async consume(): Promise<void> {
    for await (const chunk of this.gzip as AsyncIterable<Buffer>) {
      this.hash.update(chunk);
      this.compressed += chunk.length;
      await this.serialized(() => (this.live ? this.output.write(chunk) : this.toScratch(chunk)));
    }
    await this.serialized(async () => {
      if (this.file && !this.live) await closeFile(this.file);
    });
  }

  private async toScratch(chunk: Buffer): Promise<void> {
    this.file ??= createWriteStream(this.path, { flags: 'wx', mode: 0o600 });
    await writeTo(this.file, chunk);
  }

  private serialized(step: () => Promise<void>): Promise<void> {
    const run = this.lock.then(step);
    this.lock = run.catch((error: Error) => {
      this.failure ??= error;
    });
    return run;
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
}

export class AddressableArchiveWriter {
  private prelude: ArchivePart | undefined;
  private readonly declared = new Map<string, NamespaceMetadata>();
  private readonly parts = new Map<string, PartWriter>();
  /** Parts not yet handed to the output, in creation order. */
  private readonly waiting: PartWriter[] = [];
  private readonly written: ArchivePart[] = [];
  private readonly settings: { level: number; blockBytes: number; chunkBytes: number };
  private readonly output: Output;
  private pump: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private closing = false;
  private ended = false;
  private failure: Error | undefined;

  constructor(private readonly options: AddressableWriterOptions) {
    this.settings = { level: options.level ?? 6, blockBytes: options.blockBytes ?? 1024 * 1024, chunkBytes: options.chunkBytes ?? 256 * 1024 };
    this.output = new Output(options.out);
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
    const prelude: ArchivePart = {
      collection: null,
      db: namespaces[0]?.db ?? '',
      offset: 0,
      length: bytes.length,
      uncompressedBytes: plain.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      documents: 0,
    };
    this.prelude = prelude;
    this.pump = this.run(bytes);
    // end() reports a failure; until then it must not go unhandled.
    this.pump.catch(() => undefined);
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

  /** Ends the namespace: its EOF header with the CRC-64 of its documents closes its part. */
  async writeEof(db: string, collection: string): Promise<void> {
    const part = this.partFor(db, collection);
    part.ended = true;
    part.add(encodeNamespaceHeader({ db, collection, eof: true, crc: part.crc.digest() }));
    part.add(TERMINATOR);
    await part.finish();
    this.wake?.();
  }

  /**
   * Waits until every part is in the output and returns the parts in file
   * order (the prelude first). Every namespace of the prelude must have
   * ended (a time-series collection's data may be its buckets alone).
   */
  async end(): Promise<ArchivePart[]> {
    this.assertOpen();
    if (!this.prelude) throw new Error('AddressableArchiveWriter: end() before writePrelude()');
    for (const [namespace, entry] of this.declared) {
      const own = this.parts.get(namespace);
      const buckets = this.parts.get(namespaceOf(entry.db, BUCKETS_PREFIX + entry.collection));
      if (!own?.ended && !(entry.type === 'timeseries' && buckets?.ended && !own)) throw new Error(`AddressableArchiveWriter: no EOF written for ${namespace}`);
    }
    const unfinished = [...this.parts.values()].filter((part) => !part.ended);
    if (unfinished.length > 0) throw new Error(`AddressableArchiveWriter: no EOF written for ${unfinished.map((p) => namespaceOf(p.db, p.collection)).join(', ')}`);
    this.ended = true;
    this.closing = true;
    this.wake?.();
    await this.pump;
    if (this.failure) throw this.failure;
    return [this.prelude, ...this.written];
  }

  /** Stops every part still being written (after a failure). */
  abort(): void {
    this.ended = true;
    this.closing = true;
    this.failure ??= new Error('AddressableArchiveWriter: aborted');
    for (const part of this.parts.values()) part.destroy();
    this.wake?.();
  }

  /** Writes the prelude, then hands the output to one part at a time until end(). */
  private async run(prelude: Buffer): Promise<void> {
    try {
      await this.output.write(prelude);
      for (;;) {
        const next = this.nextPart();
        if (next) {
          await next.goLive();
          this.written.push(await next.untilWritten());
          continue;
        }
        if (this.closing) return;
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = undefined;
      }
    } catch (error) {
      this.failure ??= error as Error;
      for (const part of this.parts.values()) part.destroy();
      throw error;
    }
  }

  /**
   * A finished part first (its scratch file is freed at once), else the part
   * in progress with the most bytes in scratch, which then streams.
   */
  private nextPart(): PartWriter | undefined {
    if (this.failure) throw this.failure;
    let pick = this.waiting.findIndex((part) => part.ended);
    if (pick < 0 && this.waiting.length > 0) {
      pick = 0;
      this.waiting.forEach((part, i) => {
        if (part.scratchBytes > this.waiting[pick]!.scratchBytes) pick = i;
      });
    }
    return pick < 0 ? undefined : this.waiting.splice(pick, 1)[0];
  }

  private partFor(db: string, collection: string): PartWriter {
    this.assertOpen();
    if (this.failure) throw this.failure;
    if (!this.prelude) throw new Error('AddressableArchiveWriter: write the prelude before any namespace data');
    const namespace = namespaceOf(db, collection);
    let part = this.parts.get(namespace);
    if (!part) {
      const owner = collection.startsWith(BUCKETS_PREFIX) ? this.declared.get(namespaceOf(db, collection.slice(BUCKETS_PREFIX.length))) : undefined;
      if (!this.declared.has(namespace) && owner?.type !== 'timeseries') {
        throw new Error(`AddressableArchiveWriter: namespace ${namespace} is not in the prelude`);
      }
      part = new PartWriter(db, collection, join(this.options.dir, `part-${this.parts.size}.gz`), this.output, this.settings);
      this.parts.set(namespace, part);
      this.waiting.push(part);
      this.wake?.();
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
