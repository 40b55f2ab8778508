/**
 * Random damage to a valid archive must end in either a clean parse or one
 * ArchiveFormatError, never another exception and never a hang. The PRNG is
 * seeded, so a failing case reproduces; its number and mutation are in the
 * assertion message.
 */
import { gzipSync } from 'node:zlib';
import { Decimal128, MaxKey, MinKey } from 'bson';
import { describe, expect, it } from 'vitest';
import { crc64 } from '../../../runtime/archive/crc64.js';
import { ArchiveFormatError } from '../../../runtime/archive/errors.js';
import { openArchive, readArchive } from '../../../runtime/archive/reader.js';
import type { ArchiveEvent } from '../../../runtime/archive/types.js';
import { seededRandom } from '../../support/random.js';
import { HEADER, bson, namespace, writeArchive } from './helpers.js';

const CASES = 2000;

async function baseArchive(): Promise<Buffer> {
  return writeArchive(async (w) => {
    await w.writePrelude(HEADER, [namespace('db', 'a'), namespace('db', 'b'), namespace('db', 'empty')]);
    await w.writeSegment('db', 'a', [bson({ _id: 1, n: Decimal128.fromString('1.5') }), bson({ _id: 2, k: [new MinKey(), new MaxKey()] })]);
    await w.writeSegment('db', 'b', [bson({ _id: 'x', nested: { a: [[1], [2]] } })]);
    await w.writeEof('db', 'empty');
    await w.writeSegment('db', 'a', [bson({ _id: 3, s: 'three' })]);
    await w.writeEof('db', 'a');
    await w.writeEof('db', 'b');
  });
}

type Mutation = { name: string; apply: (bytes: Buffer) => Buffer };

function mutationFor(random: () => number, length: number): Mutation {
  const at = () => Math.floor(random() * length);
  const byte = () => Math.floor(random() * 256);
  switch (Math.floor(random() * 7)) {
    case 0: {
      const i = at();
      const bit = 1 << Math.floor(random() * 8);
      return { name: `flip bit ${bit} at ${i}`, apply: (b) => (b[i]! ^= bit, b) };
    }
    case 1: {
      const i = at();
      const v = byte();
      return { name: `set byte ${i} to ${v}`, apply: (b) => ((b[i] = v), b) };
    }
    case 2: {
      const i = at();
      const bytes = Buffer.from(Array.from({ length: 1 + Math.floor(random() * 8) }, byte));
      return { name: `insert ${bytes.toString('hex')} at ${i}`, apply: (b) => Buffer.concat([b.subarray(0, i), bytes, b.subarray(i)]) };
    }
    case 3: {
      const i = at();
      const n = 1 + Math.floor(random() * 16);
      return { name: `delete ${n} bytes at ${i}`, apply: (b) => Buffer.concat([b.subarray(0, i), b.subarray(i + n)]) };
    }
    case 4: {
      const i = at();
      return { name: `truncate to ${i}`, apply: (b) => b.subarray(0, i) };
    }
    case 5: {
      const i = at();
      const n = 1 + Math.floor(random() * 64);
      return { name: `duplicate ${n} bytes at ${i}`, apply: (b) => Buffer.concat([b.subarray(0, i + n), b.subarray(i, i + n), b.subarray(i + n)]) };
    }
    default: {
      const i = at();
      const word = [0xffffffff, 0, 5, 0x7fffffff, 0x01000001][Math.floor(random() * 5)]!;
      return { name: `write word ${word} at ${i}`, apply: (b) => (i + 4 <= b.length ? (b.writeUInt32LE(word, i), b) : b) };
    }
  }
}

async function* randomChunks(bytes: Buffer, random: () => number): AsyncGenerator<Buffer> {
  for (let i = 0; i < bytes.length; ) {
    const size = 1 + Math.floor(random() * 64);
    yield bytes.subarray(i, i + size);
    i += size;
  }
}

/** Consumes the events; a parse that would not end trips the counter instead of hanging the run. */
async function consume(events: AsyncIterable<ArchiveEvent>, limit: number): Promise<void> {
  const docsByNamespace = new Map<string, Buffer[]>();
  let count = 0;
  for await (const event of events) {
    if (++count > limit) throw new Error(`more than ${limit} events: the reader does not terminate`);
    if (event.type === 'segment') {
      const key = `${event.db}.${event.collection}`;
      docsByNamespace.set(key, [...(docsByNamespace.get(key) ?? []), ...event.documents]);
    }
    if (event.type === 'eof') {
      // Whatever got through must be self-consistent.
      expect(event.crc).toBe(crc64(Buffer.concat(docsByNamespace.get(`${event.db}.${event.collection}`) ?? [])));
    }
  }
}

describe('archive reader fuzzing', () => {
  it(`survives ${CASES} random mutations of a valid archive with only ArchiveFormatError`, async () => {
    const base = await baseArchive();
    const random = seededRandom(0x5eed);
    const outcomes = { parsed: 0, rejected: 0 };
    for (let n = 0; n < CASES; n++) {
      const mutation = mutationFor(random, base.length);
      const damaged = mutation.apply(Buffer.from(base));
      const gzipped = n % 4 === 0;
      const input = randomChunks(gzipped ? gzipSync(damaged) : damaged, random);
      const events = gzipped ? openArchive(input) : readArchive(input, { maxBatchDocuments: 2 });
      try {
        await consume(events, damaged.length + 10);
        outcomes.parsed++;
      } catch (error) {
        expect(error, `case ${n}: ${mutation.name} threw ${String(error)}`).toBeInstanceOf(ArchiveFormatError);
        outcomes.rejected++;
      }
    }
    // Most damage must be caught; some are harmless to the framing (e.g. changed characters inside prelude strings such as the metadata JSON).
    expect(outcomes.rejected).toBeGreaterThan(CASES * 0.8);
  });

  it('survives damage to the gzip layer itself', async () => {
    const gz = gzipSync(await baseArchive());
    const random = seededRandom(0x9a1b);
    for (let n = 0; n < 300; n++) {
      const mutation = mutationFor(random, gz.length);
      const damaged = mutation.apply(Buffer.from(gz));
      try {
        await consume(openArchive(randomChunks(damaged, random)), 10_000);
      } catch (error) {
        expect(error, `case ${n}: ${mutation.name} threw ${String(error)}`).toBeInstanceOf(ArchiveFormatError);
      }
    }
  });
});
