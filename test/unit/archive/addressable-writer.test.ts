/**
 * The collection-addressable archive: one valid gzip stream of one valid
 * mongodump archive as a whole (plain `gunzip` and our reader agree), and
 * every collection one contiguous range that decompresses and parses alone.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { AddressableArchiveWriter, writeEventsAddressable, type ArchivePart } from '../../../runtime/archive/addressable-writer.js';
import { openArchive, readArchive } from '../../../runtime/archive/reader.js';
import type { ArchiveEvent } from '../../../runtime/archive/types.js';
import { tableOfContents } from '../../../runtime/snapshot/write-addressable.js';
import { tocLayoutProblems } from '../../../runtime/snapshot/toc.js';
import { HEADER, bson, collect, namespace } from './helpers.js';

async function* chunks(...buffers: Buffer[]): AsyncGenerator<Buffer> {
  yield* buffers;
}

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** An output that keeps what it is given. */
function memoryOutput(): { out: PassThrough; bytes: () => Buffer } {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (chunk: Buffer) => chunks.push(chunk));
  return { out, bytes: () => Buffer.concat(chunks) };
}

function scratchDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'syrf-addressable-test-'));
  dirs.push(dir);
  return dir;
}

async function build(events: ArchiveEvent[], blockBytes?: number): Promise<{ file: Buffer; parts: ArchivePart[] }> {
  const { out, bytes } = memoryOutput();
  const writer = new AddressableArchiveWriter({ dir: scratchDir(), out, ...(blockBytes ? { blockBytes } : {}) });
  await writeEventsAddressable((async function* () { yield* events; })(), writer);
  const parts = await writer.end();
  return { file: bytes(), parts };
}

/** Two collections whose segments interleave, as a parallel dump writes them, and an empty one. */
function interleaved(): ArchiveEvent[] {
  const doc = (collection: string, i: number) => bson({ _id: i, collection, text: 'x'.repeat(50 + (i % 300)) });
  const events: ArchiveEvent[] = [{ type: 'prelude', header: HEADER, namespaces: [namespace('db', 'alpha'), namespace('db', 'beta'), namespace('db', 'empty')] }];
  for (let batch = 0; batch < 40; batch++) {
    events.push({ type: 'segment', db: 'db', collection: 'beta', documents: Array.from({ length: 50 }, (_, i) => doc('beta', batch * 50 + i)) });
    events.push({ type: 'segment', db: 'db', collection: 'alpha', documents: Array.from({ length: 30 }, (_, i) => doc('alpha', batch * 30 + i)) });
  }
  events.push({ type: 'eof', db: 'db', collection: 'alpha', crc: 0n }, { type: 'eof', db: 'db', collection: 'empty', crc: 0n }, { type: 'eof', db: 'db', collection: 'beta', crc: 0n });
  return events;
}

const documentsOf = (events: ArchiveEvent[], collection: string) => events.flatMap((e) => (e.type === 'segment' && e.collection === collection ? e.documents.map((d) => d.toString('hex')) : []));

describe('collection-addressable archive writer', () => {
  it('writes one gzip stream that plain gunzip decompresses into an archive our reader accepts whole', async () => {
    const input = interleaved();
    // Small blocks: several gzip members inside each collection's range.
    const { file } = await build(input, 64 * 1024);
    const dir = mkdtempSync(join(tmpdir(), 'syrf-gunzip-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'dump.gz'), file);
    const plain = execFileSync('gunzip', ['-c', join(dir, 'dump.gz')], { maxBuffer: 1 << 28 });
    const events = await collect(readArchive(chunks(plain)));
    for (const name of ['alpha', 'beta', 'empty']) expect(documentsOf(events, name)).toEqual(documentsOf(input, name));
    expect(events.filter((e) => e.type === 'eof').map((e) => e.collection).sort()).toEqual(['alpha', 'beta', 'empty']);
    // The same bytes through our own gzip-sniffing reader.
    expect((await collect(openArchive(chunks(file)))).length).toBe(events.length);
  });

  it('makes each collection one contiguous range that decompresses and parses on its own', async () => {
    const input = interleaved();
    const { file, parts } = await build(input, 64 * 1024);
    const toc = tableOfContents(parts);
    expect(tocLayoutProblems(toc, file.length)).toEqual([]);
    // File order is the order the parts streamed: beta first (it began first), then what finished meanwhile.
    expect(toc.collections.map((c) => c.collection)).toEqual(['beta', 'alpha', 'empty']);
    const preludePlain = gunzipSync(file.subarray(0, toc.prelude.length));
    expect(preludePlain.length).toBe(toc.prelude.uncompressedBytes);
    for (const entry of toc.collections) {
      const range = file.subarray(entry.offset, entry.offset + entry.length);
      expect(createHash('sha256').update(range).digest('hex')).toBe(entry.sha256);
      const plain = gunzipSync(range);
      expect(plain.length).toBe(entry.uncompressedBytes);
      // The prelude plus this range alone is a complete archive of that one collection, CRC included
      // (the reader refuses the others' missing EOFs, so keep only this namespace in the prelude).
      const own = await collect(readArchive(chunks(rebuildPrelude(entry.collection), plain)));
      expect(documentsOf(own, entry.collection)).toEqual(documentsOf(input, entry.collection));
      expect(entry.documents).toBe(documentsOf(input, entry.collection).length);
    }
  });

  it('carries a real mongodump archive through unchanged: same documents, same CRCs', async () => {
    const fixture = readFileSync(new URL('../../fixtures/archive/mongodump.archive.gz', import.meta.url));
    const original = await collect(openArchive(chunks(fixture)));
    const { file } = await build(original);
    const again = await collect(openArchive(chunks(file)));
    const eofs = (events: ArchiveEvent[]) => events.filter((e) => e.type === 'eof').map((e) => `${e.collection}:${(e as { crc: bigint }).crc}`).sort();
    expect(eofs(again)).toEqual(eofs(original));
    for (const ns of (original[0] as { namespaces: { collection: string }[] }).namespaces) expect(documentsOf(again, ns.collection)).toEqual(documentsOf(original, ns.collection));
  });

  it('refuses data for a namespace the prelude does not list, and an end without every EOF', async () => {
    const writer = new AddressableArchiveWriter({ dir: scratchDir(), out: memoryOutput().out });
    writer.writePrelude(HEADER, [namespace('db', 'alpha')]);
    await expect(writer.writeSegment('db', 'other', [bson({ _id: 1 })])).rejects.toThrow(/not in the prelude/);
    await writer.writeSegment('db', 'alpha', [bson({ _id: 1 })]);
    await expect(writer.end()).rejects.toThrow(/no EOF written for db.alpha/);
    writer.abort();
  });

  it('streams: a collection is in the output before the archive ends, with no scratch file when the input is sequential', async () => {
    const dir = scratchDir();
    const { out, bytes } = memoryOutput();
    const writer = new AddressableArchiveWriter({ dir, out, blockBytes: 16 * 1024, chunkBytes: 8 * 1024 });
    writer.writePrelude(HEADER, [namespace('db', 'alpha'), namespace('db', 'beta')]);
    const big = (collection: string) => Array.from({ length: 2000 }, (_, i) => bson({ _id: i, collection, text: `${i} `.repeat(40) }));
    for (let i = 0; i < 2000; i += 100) {
      await writer.writeSegment('db', 'alpha', big('alpha').slice(i, i + 100));
      expect(readdirSync(dir)).toEqual([]);
    }
    await writer.writeEof('db', 'alpha');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const outBeforeBeta = bytes().length;
    await writer.writeSegment('db', 'beta', big('beta'));
    await writer.writeEof('db', 'beta');
    expect(readdirSync(dir)).toEqual([]);
    const parts = await writer.end();
    const toc = tableOfContents(parts);
    expect(tocLayoutProblems(toc, bytes().length)).toEqual([]);
    expect(toc.collections.map((c) => [c.collection, c.documents])).toEqual([['alpha', 2000], ['beta', 2000]]);
    // All of alpha went out while beta had not even begun.
    expect(outBeforeBeta).toBe(toc.prelude.length + toc.collections[0]!.length);
  });

  it('stages an interleaved collection in scratch only while another one streams, and removes it once copied', async () => {
    const dir = scratchDir();
    const { out, bytes } = memoryOutput();
    const writer = new AddressableArchiveWriter({ dir, out, blockBytes: 16 * 1024, chunkBytes: 8 * 1024 });
    writer.writePrelude(HEADER, [namespace('db', 'alpha'), namespace('db', 'beta')]);
    const docs = (collection: string) => Array.from({ length: 500 }, (_, i) => bson({ _id: i, collection, text: `${i} `.repeat(40) }));
    await writer.writeSegment('db', 'alpha', docs('alpha'));
    await writer.writeSegment('db', 'beta', docs('beta'));
    await writer.writeEof('db', 'beta');
    await new Promise((resolve) => setTimeout(resolve, 50));
    // beta finished while alpha still streams: it waits in scratch.
    expect(readdirSync(dir).map((name) => statSync(join(dir, name)).size).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    await writer.writeEof('db', 'alpha');
    const parts = await writer.end();
    expect(readdirSync(dir)).toEqual([]);
    const toc = tableOfContents(parts);
    expect(tocLayoutProblems(toc, bytes().length)).toEqual([]);
    expect(toc.collections.map((c) => c.collection)).toEqual(['alpha', 'beta']);
    const all = await collect(openArchive(chunks(bytes())));
    expect(all.filter((e) => e.type === 'eof').map((e) => e.collection).sort()).toEqual(['alpha', 'beta']);
  });

  it('refuses to go on once the output is closed (an upload that gave up), instead of waiting forever', async () => {
    const { out } = memoryOutput();
    out.on('error', () => undefined);
    const writer = new AddressableArchiveWriter({ dir: scratchDir(), out, blockBytes: 16 * 1024, chunkBytes: 8 * 1024 });
    writer.writePrelude(HEADER, [namespace('db', 'alpha')]);
    out.destroy(new Error('upload refused'));
    const docs = Array.from({ length: 500 }, (_, i) => bson({ _id: i, text: `${i} `.repeat(40) }));
    await expect(
      (async () => {
        for (let i = 0; i < 50; i++) await writer.writeSegment('db', 'alpha', docs);
        await writer.writeEof('db', 'alpha');
        await writer.end();
      })(),
    ).rejects.toThrow();
    writer.abort();
  });
});

function rebuildPrelude(collection: string): Buffer {
  // Encoded with the same helpers the ranged restore uses.
  return Buffer.concat([
    Buffer.from([0x6d, 0xe2, 0x99, 0x81]),
    bson({ concurrent_collections: HEADER.concurrentCollections, version: HEADER.version, server_version: HEADER.serverVersion, tool_version: HEADER.toolVersion }),
    bson({ db: 'db', collection, metadata: namespace('db', collection).metadata, size: 0, type: 'collection' }),
    Buffer.from([0xff, 0xff, 0xff, 0xff]),
  ]);
}
