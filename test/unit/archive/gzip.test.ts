import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ArchiveFormatError } from '../../../runtime/archive/errors.js';
import { maybeGunzip, startsWithGzipMagic } from '../../../runtime/archive/gzip.js';
import { openArchive, readArchive } from '../../../runtime/archive/reader.js';
import { HEADER, bson, collect, inPieces, namespace, rejection, split, summarize, writeArchive } from './helpers.js';

async function sampleArchive(): Promise<Buffer> {
  return writeArchive(async (w) => {
    await w.writePrelude(HEADER, [namespace('db', 'a'), namespace('db', 'b')]);
    await w.writeSegment('db', 'a', Array.from({ length: 300 }, (_, i) => bson({ _id: i, text: 'x'.repeat(i % 50) })));
    await w.writeSegment('db', 'b', [bson({ _id: 'only' })]);
    await w.writeEof('db', 'a');
    await w.writeEof('db', 'b');
  });
}

describe('gzip handling', () => {
  it('detects the gzip magic', () => {
    expect(startsWithGzipMagic(gzipSync(Buffer.from('x')))).toBe(true);
    expect(startsWithGzipMagic(Buffer.from([0x6d, 0xe2, 0x99, 0x81]))).toBe(false);
    expect(startsWithGzipMagic(Buffer.from([0x1f]))).toBe(false);
  });

  it('openArchive reads gzip and plain archives alike, in any chunking', async () => {
    const plain = await sampleArchive();
    const reference = summarize(await collect(readArchive(split(plain))));
    const gz = gzipSync(plain);
    expect(summarize(await collect(openArchive(split(gz))))).toEqual(reference);
    expect(summarize(await collect(openArchive(inPieces(gz, 1))))).toEqual(reference);
    expect(summarize(await collect(openArchive(Readable.from([gz]))))).toEqual(reference);
    expect(summarize(await collect(openArchive(inPieces(plain, 1))))).toEqual(reference);
  });

  it('reads concatenated gzip members as one stream', async () => {
    const plain = await sampleArchive();
    const twoMembers = Buffer.concat([gzipSync(plain.subarray(0, 1000)), gzipSync(plain.subarray(1000))]);
    expect(summarize(await collect(openArchive(split(twoMembers))))).toEqual(summarize(await collect(readArchive(split(plain)))));
  });

  it('turns a truncated gzip stream into an ArchiveFormatError', async () => {
    const gz = gzipSync(await sampleArchive());
    const error = await rejection(collect(openArchive(split(gz.subarray(0, gz.length - 10)), { source: 'dump.gz' })));
    expect(error).toBeInstanceOf(ArchiveFormatError);
    expect(error.message).toMatch(/^gzip stream is corrupt or truncated: unexpected end of file \(at byte \d+, of dump\.gz\)$/);
  });

  it('turns corrupt gzip data into an ArchiveFormatError', async () => {
    const gz = Buffer.from(gzipSync(await sampleArchive()));
    for (let i = 20; i < 40; i++) gz[i] = 0xff - gz[i]!;
    const error = await rejection(collect(openArchive(split(gz))));
    expect(error).toBeInstanceOf(ArchiveFormatError);
    expect(error.message).toMatch(/gzip stream is corrupt or truncated|CRC-64 mismatch|invalid document/);
  });

  it('passes an input failure through untouched, not as a format error', async () => {
    const gz = gzipSync(await sampleArchive());
    const failing = (async function* () {
      yield gz.subarray(0, 100);
      throw new Error('connection reset by peer');
    })();
    const error = await rejection(collect(openArchive(failing)));
    expect(error).not.toBeInstanceOf(ArchiveFormatError);
    expect(error.message).toBe('connection reset by peer');
  });

  it('closes the input when the consumer stops early', async () => {
    const gz = gzipSync(await sampleArchive());
    let closed = false;
    const input = (async function* () {
      try {
        for (let i = 0; i < gz.length; i += 64) yield gz.subarray(i, i + 64);
      } finally {
        closed = true;
      }
    })();
    for await (const event of openArchive(input)) {
      if (event.type === 'prelude') break;
    }
    expect(closed).toBe(true);
  });

  it('maybeGunzip passes plain bytes through unchanged, even when the first chunk is 1 byte', async () => {
    const plain = await sampleArchive();
    const out: Buffer[] = [];
    for await (const chunk of maybeGunzip(inPieces(plain, 1))) out.push(chunk);
    expect(Buffer.concat(out).equals(plain)).toBe(true);
  });
});
