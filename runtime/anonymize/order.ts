/**
 * Output order that says nothing about input order. A collection's natural
 * order is roughly insertion order (sign-up order for users), which undoes
 * masked dates; so every anonymized collection is written sorted by a keyed
 * hash of its documents' `_id` (of the whole document when there is none).
 * Without the key the order looks random and cannot be linked back.
 *
 * Memory stays bounded: a collection is sorted in memory up to
 * RUN_BYTES; beyond that, sorted runs are written to temp files and merged,
 * reading each run through a small buffer.
 */
import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import { mkdtemp, open, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ArchiveEvent } from '../archive/types.js';
import { valueSize } from './bson-raw.js';

export interface KeyedOrderOptions {
  tempDir?: string;
  /** Bytes of documents a collection may hold in memory before it spills a sorted run. */
  runBytes?: number;
}

const RUN_BYTES = 16 << 20;
const READ_BYTES = 256 << 10;
const SEGMENT_DOCUMENTS = 1000;
const SEGMENT_BYTES = 1 << 20;
const ID = Buffer.from('_id\0', 'latin1');

interface Entry {
  rank: number;
  doc: Buffer;
}

interface Sorter {
  entries: Entry[];
  bytes: number;
  runs: string[];
}

export async function* keyedOrder(events: AsyncIterable<ArchiveEvent>, key: Buffer, options: KeyedOrderOptions = {}): AsyncGenerator<ArchiveEvent> {
  const runBytes = options.runBytes ?? RUN_BYTES;
  const secret = createSecretKey(key);
  const rankOf = (doc: Buffer) => documentRank(doc, secret);
  const sorters = new Map<string, Sorter>();
  let dir: string | null = null;
  let runCount = 0;
  const spill = async (sorter: Sorter) => {
    dir ??= await mkdtemp(join(options.tempDir ?? tmpdir(), 'syrf-order-'));
    const path = join(dir, `${runCount++}.run`);
    sorter.entries.sort(byRank);
    const file = await open(path, 'wx', 0o600);
    try {
      for (let i = 0; i < sorter.entries.length; i += SEGMENT_DOCUMENTS) {
        await file.write(Buffer.concat(sorter.entries.slice(i, i + SEGMENT_DOCUMENTS).map((e) => e.doc)));
      }
    } finally {
      await file.close();
    }
    sorter.runs.push(path);
    sorter.entries = [];
    sorter.bytes = 0;
  };
  try {
    for await (const event of events) {
      if (event.type === 'prelude') {
        yield event;
        continue;
      }
      const ns = `${event.db}.${event.collection}`;
      let sorter = sorters.get(ns);
      if (!sorter) {
        sorter = { entries: [], bytes: 0, runs: [] };
        sorters.set(ns, sorter);
      }
      if (event.type === 'segment') {
        // Views of the input's read chunks would pin whole chunks while held: those are copied (rewritten documents are their own buffers).
        const pinning = event.documents.filter((doc) => doc.buffer.byteLength > 2 * doc.length + 8192);
        const joined = pinning.length > 0 ? Buffer.concat(pinning) : null;
        let at = 0;
        for (const doc of event.documents) {
          let held = doc;
          if (joined && doc.buffer.byteLength > 2 * doc.length + 8192) {
            held = joined.subarray(at, at + doc.length);
            at += doc.length;
          }
          sorter.entries.push({ rank: rankOf(held), doc: held });
          sorter.bytes += held.length;
        }
        if (sorter.bytes >= runBytes) await spill(sorter);
        continue;
      }
      sorters.delete(ns);
      if (sorter.runs.length === 0) {
        sorter.entries.sort(byRank);
        yield* segments(event.db, event.collection, sorter.entries.map((e) => e.doc));
      } else {
        if (sorter.entries.length > 0) await spill(sorter);
        let batch: Buffer[] = [];
        let bytes = 0;
        for await (const doc of mergeRuns(sorter.runs, rankOf)) {
          batch.push(doc);
          bytes += doc.length;
          if (batch.length >= SEGMENT_DOCUMENTS || bytes >= SEGMENT_BYTES) {
            yield { type: 'segment', db: event.db, collection: event.collection, documents: batch };
            batch = [];
            bytes = 0;
          }
        }
        if (batch.length > 0) yield { type: 'segment', db: event.db, collection: event.collection, documents: batch };
        for (const run of sorter.runs) await rm(run, { force: true });
      }
      yield { ...event, crc: 0n };
    }
  } finally {
    if (dir) await rm(dir, { recursive: true, force: true });
  }
}

function byRank(a: Entry, b: Entry): number {
  return a.rank - b.rank || Buffer.compare(a.doc, b.doc);
}

function* segments(db: string, collection: string, docs: Buffer[]): Generator<ArchiveEvent> {
  let start = 0;
  let bytes = 0;
  for (let i = 0; i < docs.length; i++) {
    bytes += docs[i]!.length;
    if (i + 1 - start >= SEGMENT_DOCUMENTS || bytes >= SEGMENT_BYTES) {
      yield { type: 'segment', db, collection, documents: docs.slice(start, i + 1) };
      start = i + 1;
      bytes = 0;
    }
  }
  if (start < docs.length) yield { type: 'segment', db, collection, documents: docs.slice(start) };
}

/** A 53-bit keyed rank of the document's `_id` element (type and value bytes), or of the whole document. */
export function documentRank(doc: Buffer, key: Buffer | KeyObject): number {
  const id = idElement(doc);
  const mac = createHmac('sha256', key).update('syrf-db-tools/order/v1\0').update(id ?? doc).digest();
  return mac.readUInt32BE(0) * 0x200000 + (mac.readUInt32BE(4) >>> 11);
}

function idElement(doc: Buffer): Buffer | null {
  const last = doc.length - 1;
  for (let pos = 4; pos < last; ) {
    const type = doc[pos]!;
    const nameEnd = doc.indexOf(0, pos + 1);
    if (nameEnd < 0) return null;
    const size = valueSize(doc, type, nameEnd + 1, last);
    if (size < 0) return null;
    if (nameEnd - pos === 4 && doc.compare(ID, 0, 3, pos + 1, nameEnd) === 0) {
      return Buffer.concat([doc.subarray(pos, pos + 1), doc.subarray(nameEnd + 1, nameEnd + 1 + size)]);
    }
    pos = nameEnd + 1 + size;
  }
  return null;
}

/** Documents of sorted runs, merged by rank. */
async function* mergeRuns(paths: string[], rankOf: (doc: Buffer) => number): AsyncGenerator<Buffer> {
  const readers = await Promise.all(paths.map((path) => RunReader.open(path)));
  try {
    const heads: Array<{ rank: number; doc: Buffer; reader: RunReader }> = [];
    for (const reader of readers) {
      const doc = await reader.next();
      if (doc) heads.push({ rank: rankOf(doc), doc, reader });
    }
    // Few runs: a linear scan for the smallest head is simpler than a heap and fast enough.
    while (heads.length > 0) {
      let best = 0;
      for (let i = 1; i < heads.length; i++) {
        const h = heads[i]!;
        const b = heads[best]!;
        if (h.rank < b.rank || (h.rank === b.rank && Buffer.compare(h.doc, b.doc) < 0)) best = i;
      }
      const head = heads[best]!;
      yield head.doc;
      const doc = await head.reader.next();
      if (doc) {
        head.doc = doc;
        head.rank = rankOf(doc);
      } else heads.splice(best, 1);
    }
  } finally {
    for (const reader of readers) await reader.close();
  }
}

class RunReader {
  private buffer = Buffer.alloc(0);
  private at = 0;
  private position = 0;
  private done = false;

  private constructor(private readonly file: FileHandle) {}

  static async open(path: string): Promise<RunReader> {
    return new RunReader(await open(path, 'r'));
  }

  /** The next document (a view of the current read chunk), or null at the end. */
  async next(): Promise<Buffer | null> {
    if (!(await this.fill(4))) {
      if (this.buffer.length - this.at === 0) return null;
      throw new Error('a sorted run file is corrupt');
    }
    const size = this.buffer.readInt32LE(this.at);
    if (size < 5 || !(await this.fill(size))) throw new Error('a sorted run file is corrupt');
    const doc = this.buffer.subarray(this.at, this.at + size);
    this.at += size;
    return doc;
  }

  private async fill(bytes: number): Promise<boolean> {
    while (this.buffer.length - this.at < bytes) {
      if (this.done) return false;
      const chunk = Buffer.allocUnsafe(Math.max(READ_BYTES, bytes));
      const { bytesRead } = await this.file.read(chunk, 0, chunk.length, this.position);
      this.position += bytesRead;
      if (bytesRead === 0) this.done = true;
      this.buffer = Buffer.concat([this.buffer.subarray(this.at), chunk.subarray(0, bytesRead)]);
      this.at = 0;
    }
    return true;
  }

  async close(): Promise<void> {
    await this.file.close();
  }
}
