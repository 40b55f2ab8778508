/**
 * The archive framing state machine. It is fed chunks of any size and split
 * (a boundary may fall anywhere, even inside a length prefix) and returns the
 * events that became complete. Documents are handed out as views of the
 * incoming chunks; only a document that spans chunks is copied.
 */
import { bsonProblem } from './bson-check.js';
import { Crc64 } from './crc64.js';
import { ArchiveFormatError } from './errors.js';
import { parseCollectionMetadata } from './metadata.js';
import { ARCHIVE_MAGIC, MAX_BSON_SIZE, MIN_BSON_SIZE, TERMINATOR, namespaceOf } from './format.js';
import {
  ControlDocumentError,
  decodeArchiveHeader,
  decodeNamespaceHeader,
  decodeNamespaceMetadata,
  type NamespaceHeader,
} from './prelude.js';
import type { ArchiveEvent, ArchiveHeader, NamespaceMetadata } from './types.js';

export interface DecoderOptions {
  /** Named in error messages (a file path or URL). */
  source?: string;
  /** A segment event carries at most this many documents (default 1000). */
  maxBatchDocuments?: number;
  /** ...and stops growing once it holds this many bytes (default 4 MiB). */
  maxBatchBytes?: number;
}

type Phase =
  | 'magic' // the four magic bytes
  | 'header' // the archive header document
  | 'prelude' // collection metadata documents until a terminator
  | 'block' // a namespace header (segment or EOF) or the end of input
  | 'segment' // documents of the current namespace until a terminator
  | 'afterEof'; // the terminator that must follow an EOF header

interface NamespaceState {
  db: string;
  collection: string;
  crc: Crc64;
  ended: boolean;
  /** Documents seen so far, to name a bad one by its number too. */
  documents: number;
  /** The prelude entry this data belongs to (a timeseries view's data lives in system.buckets.<name>). */
  preludeKey: string;
}

/** An item whose bytes are split across chunks: either a 4-byte word or a whole document. */
interface PartialItem {
  bytes: Buffer;
  filled: number;
  offset: number;
  isWord: boolean;
}

const TIMESERIES_BUCKETS_PREFIX = 'system.buckets.';

export class ArchiveDecoder {
  private phase: Phase = 'magic';
  /** Absolute offset of the first byte of the current chunk. */
  private chunkOffset = 0;
  private partial: PartialItem | undefined;
  private header: ArchiveHeader | undefined;
  private readonly preludeEntries: NamespaceMetadata[] = [];
  /** Prelude entries by namespace, with whether their data has ended. */
  private readonly declared = new Map<string, { entry: NamespaceMetadata; ended: boolean }>();
  private readonly namespaces = new Map<string, NamespaceState>();
  private current: NamespaceState | undefined;
  /** Prelude entries whose EOF has not been seen yet. */
  private declaredOpen = 0;
  private batch: Buffer[] = [];
  private batchBytes = 0;
  private events: ArchiveEvent[] = [];
  private readonly maxBatchDocuments: number;
  private readonly maxBatchBytes: number;

  constructor(private readonly options: DecoderOptions = {}) {
    this.maxBatchDocuments = options.maxBatchDocuments ?? 1000;
    this.maxBatchBytes = options.maxBatchBytes ?? 4 * 1024 * 1024;
  }

  /** Consumes a chunk and returns the events completed by it. */
  push(chunk: Buffer): ArchiveEvent[] {
    let pos = 0;
    const length = chunk.length;
    while (pos < length) {
      if (this.partial !== undefined) {
        pos = this.continuePartial(chunk, pos);
        continue;
      }
      const offset = this.chunkOffset + pos;
      if (length - pos < 4) {
        this.partial = { bytes: Buffer.allocUnsafe(4), filled: 0, offset, isWord: true };
        continue;
      }
      const word = chunk.readUInt32LE(pos);
      const documentLength = this.onWord(word, offset);
      if (documentLength === 0) {
        pos += 4;
      } else if (pos + documentLength <= length) {
        this.onDocument(chunk.subarray(pos, pos + documentLength), offset);
        pos += documentLength;
      } else {
        const bytes = Buffer.allocUnsafe(documentLength);
        chunk.copy(bytes, 0, pos);
        this.partial = { bytes, filled: length - pos, offset, isWord: false };
        pos = length;
      }
    }
    this.chunkOffset += length;
    return this.drainEvents();
  }

  /** Declares the end of input; returns the last events or throws if the archive is incomplete. */
  finish(): ArchiveEvent[] {
    const end = this.chunkOffset;
    const partial = this.partial;
    if (this.phase === 'magic') {
      const got = partial?.filled ?? 0;
      throw this.error(got === 0 ? 'not a mongodump archive: the input is empty' : `not a mongodump archive: the input is only ${got} bytes long`, 0);
    }
    if (partial !== undefined) {
      const what = partial.isWord ? 'a length prefix or terminator' : `a ${partial.bytes.length}-byte document`;
      throw this.error(`archive truncated: the input ends inside ${what} (${partial.filled} bytes present)`, partial.offset, this.current);
    }
    switch (this.phase) {
      case 'header':
        throw this.error('archive truncated: the input ends before the archive header', end);
      case 'prelude':
        throw this.error('archive truncated: the input ends inside the prelude (no terminator after the collection metadata)', end);
      case 'segment':
        throw this.error('archive truncated: the input ends inside a segment (no terminator after its documents)', end, this.current);
      case 'afterEof':
        throw this.error('archive truncated: the input ends after an EOF header without its terminator', end, this.current);
      case 'block':
        break;
    }
    for (const state of this.namespaces.values()) {
      if (!state.ended) {
        throw this.error('archive truncated: the input ends before this namespace\'s EOF header', end, state);
      }
    }
    for (const [namespace, declared] of this.declared) {
      if (!declared.ended) {
        throw this.error(`archive truncated: namespace ${namespace} is listed in the prelude but its EOF header never came`, end);
      }
    }
    return this.drainEvents();
  }

  private continuePartial(chunk: Buffer, pos: number): number {
    const partial = this.partial!;
    const take = Math.min(partial.bytes.length - partial.filled, chunk.length - pos);
    chunk.copy(partial.bytes, partial.filled, pos, pos + take);
    partial.filled += take;
    pos += take;
    if (partial.filled < partial.bytes.length) return pos;
    this.partial = undefined;
    if (!partial.isWord) {
      this.onDocument(partial.bytes, partial.offset);
      return pos;
    }
    const documentLength = this.onWord(partial.bytes.readUInt32LE(0), partial.offset);
    if (documentLength > 0) {
      const bytes = Buffer.allocUnsafe(documentLength);
      partial.bytes.copy(bytes, 0, 0, 4);
      this.partial = { bytes, filled: 4, offset: partial.offset, isWord: false };
    }
    return pos;
  }

  /**
   * Handles a 4-byte word: the magic number, a terminator, or the length of
   * the document that starts with it. Returns that length, or 0 when the
   * word was an item by itself.
   */
  private onWord(word: number, offset: number): number {
    if (this.phase === 'magic') {
      if (word !== ARCHIVE_MAGIC) {
        const hex = word.toString(16).padStart(8, '0');
        const gzip = (word & 0xffff) === 0x8b1f ? ' (the input looks gzip-compressed)' : '';
        throw this.error(`not a mongodump archive: the first four bytes read 0x${hex}, expected the magic number 0x${ARCHIVE_MAGIC.toString(16)}${gzip}`, offset);
      }
      this.phase = 'header';
      return 0;
    }
    if (this.phase === 'block' && this.declaredOpen === 0 && this.declared.size > 0) {
      throw this.error('unexpected data after the end of the archive (every namespace has already ended)', offset);
    }
    if (word === TERMINATOR) {
      this.onTerminator(offset);
      return 0;
    }
    if (word < MIN_BSON_SIZE || word > MAX_BSON_SIZE) {
      throw this.error(
        `invalid document length ${word} (must be between ${MIN_BSON_SIZE} and ${MAX_BSON_SIZE}, or the terminator 0xffffffff)`,
        offset,
        this.phase === 'segment' || this.phase === 'afterEof' ? this.current : undefined,
      );
    }
    return word;
  }

  private onTerminator(offset: number): void {
    switch (this.phase) {
      case 'header':
        throw this.error('archive header missing: found a terminator right after the magic number', offset);
      case 'prelude':
        this.phase = 'block';
        this.events.push({ type: 'prelude', header: this.header!, namespaces: this.preludeEntries });
        return;
      case 'block':
        throw this.error('unexpected terminator where a namespace header was expected', offset);
      case 'segment':
        this.flushBatch();
        this.current = undefined;
        this.phase = 'block';
        return;
      case 'afterEof':
        this.current = undefined;
        this.phase = 'block';
        return;
      case 'magic':
        throw new Error('unreachable: magic is handled before terminators');
    }
  }

  private onDocument(document: Buffer, offset: number): void {
    if (document[document.length - 1] !== 0) {
      throw this.error(
        `invalid document: its last byte is 0x${document[document.length - 1]!.toString(16).padStart(2, '0')}, not 0x00`,
        offset,
        this.phase === 'segment' ? this.current : undefined,
      );
    }
    switch (this.phase) {
      case 'segment':
        this.addToBatch(document, offset);
        return;
      case 'block':
        this.onNamespaceHeader(this.decodeControl(() => decodeNamespaceHeader(document), offset), offset);
        return;
      case 'header':
        this.header = this.decodeControl(() => decodeArchiveHeader(document), offset);
        this.phase = 'prelude';
        return;
      case 'prelude':
        this.onPreludeEntry(this.decodeControl(() => decodeNamespaceMetadata(document), offset), offset);
        return;
      case 'afterEof':
        throw this.error('a document follows an EOF header (expected a terminator)', offset, this.current);
      case 'magic':
        throw new Error('unreachable: no document before the magic number');
    }
  }

  private addToBatch(document: Buffer, offset: number): void {
    const current = this.current!;
    // Every consumer (restore, anonymize, verify) reads through here, so a document one of them could not load is refused for all.
    const bad = bsonProblem(document);
    if (bad !== null) {
      const field = bad.path === '' ? '' : ` at field "${bad.path}"`;
      throw this.error(`document #${current.documents + 1} of the collection is not valid BSON${field}: ${bad.problem}`, offset, current);
    }
    current.documents++;
    current.crc.update(document);
    this.batch.push(document);
    this.batchBytes += document.length;
    if (this.batch.length >= this.maxBatchDocuments || this.batchBytes >= this.maxBatchBytes) this.flushBatch();
  }

  private flushBatch(): void {
    if (this.batch.length === 0) return;
    const current = this.current!;
    this.events.push({ type: 'segment', db: current.db, collection: current.collection, documents: this.batch });
    this.batch = [];
    this.batchBytes = 0;
  }

  private onPreludeEntry(entry: NamespaceMetadata, offset: number): void {
    const namespace = namespaceOf(entry.db, entry.collection);
    if (this.declared.has(namespace)) {
      throw this.error('namespace listed twice in the prelude', offset, { db: entry.db, collection: entry.collection });
    }
    // Parsed here as a restore parses it, so a reader that only verifies refuses what a restore would.
    try {
      parseCollectionMetadata(entry.metadata, { namespace });
    } catch (error) {
      if (error instanceof ArchiveFormatError) throw this.error(error.problem, offset, { db: entry.db, collection: entry.collection });
      throw error;
    }
    this.declared.set(namespace, { entry, ended: false });
    this.declaredOpen++;
    this.preludeEntries.push(entry);
  }

  private onNamespaceHeader(header: NamespaceHeader, offset: number): void {
    const namespace = namespaceOf(header.db, header.collection);
    let state = this.namespaces.get(namespace);
    if (state === undefined) {
      const preludeKey = this.preludeKeyFor(header);
      if (preludeKey === undefined) {
        throw this.error('data for a namespace that the prelude does not list', offset, header);
      }
      if (this.declared.get(preludeKey)!.ended) {
        throw this.error(`data for a namespace after the EOF header of ${preludeKey}`, offset, header);
      }
      state = { db: header.db, collection: header.collection, crc: new Crc64(), ended: false, documents: 0, preludeKey };
      this.namespaces.set(namespace, state);
    } else if (state.ended) {
      throw this.error(`${header.eof ? 'a second EOF header' : 'data'} for a namespace after its EOF header`, offset, state);
    }
    this.current = state;
    if (!header.eof) {
      this.phase = 'segment';
      return;
    }
    const actual = state.crc.digest();
    if (actual !== header.crc) {
      throw this.error(
        `CRC-64 mismatch: the EOF header says 0x${header.crc.toString(16)}, the namespace's documents hash to 0x${actual.toString(16)}`,
        offset,
        state,
      );
    }
    state.ended = true;
    this.declared.get(state.preludeKey)!.ended = true;
    this.declaredOpen--;
    this.events.push({ type: 'eof', db: state.db, collection: state.collection, crc: actual });
    this.phase = 'afterEof';
  }

  /** The prelude entry a namespace's data belongs to, if any. */
  private preludeKeyFor(header: NamespaceHeader): string | undefined {
    const direct = namespaceOf(header.db, header.collection);
    if (this.declared.has(direct)) return direct;
    if (!header.collection.startsWith(TIMESERIES_BUCKETS_PREFIX)) return undefined;
    const view = namespaceOf(header.db, header.collection.slice(TIMESERIES_BUCKETS_PREFIX.length));
    return this.declared.get(view)?.entry.type === 'timeseries' ? view : undefined;
  }

  private decodeControl<T>(decode: () => T, offset: number): T {
    try {
      return decode();
    } catch (error) {
      if (error instanceof ControlDocumentError) throw this.error(error.message, offset);
      throw error;
    }
  }

  private drainEvents(): ArchiveEvent[] {
    const events = this.events;
    this.events = [];
    return events;
  }

  private error(problem: string, offset: number, where?: { db: string; collection: string }): ArchiveFormatError {
    return new ArchiveFormatError(problem, {
      offset,
      namespace: where === undefined ? undefined : namespaceOf(where.db, where.collection),
      source: this.options.source,
    });
  }
}
