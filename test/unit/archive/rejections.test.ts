import { describe, expect, it } from 'vitest';
import { ExitCode, UserError } from '../../../runtime/errors.js';
import { crc64 } from '../../../runtime/archive/crc64.js';
import { ArchiveFormatError } from '../../../runtime/archive/errors.js';
import { magicBytes, terminatorBytes } from '../../../runtime/archive/format.js';
import { encodeArchiveHeader, encodeNamespaceHeader, encodeNamespaceMetadata } from '../../../runtime/archive/prelude.js';
import { readArchive } from '../../../runtime/archive/reader.js';
import { HEADER, bson, collect, namespace, rejection, split } from './helpers.js';

const MAGIC = magicBytes();
const TERM = terminatorBytes();
const HEAD = encodeArchiveHeader(HEADER);
const meta = (collection: string) => encodeNamespaceMetadata(namespace('db', collection));
const open = (collection: string) => encodeNamespaceHeader({ db: 'db', collection, eof: false, crc: 0n });
const eof = (collection: string, crc: bigint) => encodeNamespaceHeader({ db: 'db', collection, eof: true, crc });
const doc1 = bson({ _id: 1, name: 'one' });
const doc2 = bson({ _id: 2, name: 'two' });
const CRC = crc64(Buffer.concat([doc1, doc2]));

/** A valid archive, as named parts so tests can tamper with one of them. */
function parts() {
  return { MAGIC, HEAD, meta: meta('a'), preludeEnd: TERM, open: open('a'), doc1, doc2, segmentEnd: TERM, eof: eof('a', CRC), eofEnd: TERM };
}
const join = (p: Record<string, Buffer>) => Buffer.concat(Object.values(p));
const offsetOf = (p: Record<string, Buffer>, key: string) => {
  let offset = 0;
  for (const [name, bytes] of Object.entries(p)) {
    if (name === key) return offset;
    offset += bytes.length;
  }
  throw new Error(`no part ${key}`);
};

async function failure(bytes: Buffer, cuts: number[] = []): Promise<ArchiveFormatError> {
  const error = await rejection(collect(readArchive(split(bytes, cuts), { source: 'test.archive' })));
  expect(error).toBeInstanceOf(ArchiveFormatError);
  return error as ArchiveFormatError;
}

describe('archive reader rejects malformed input with one clear error', () => {
  it('accepts the untampered archive (the baseline for every case below)', async () => {
    const events = await collect(readArchive(split(join(parts()))));
    expect(events.map((e) => e.type)).toEqual(['prelude', 'segment', 'eof']);
  });

  it('accepts an empty segment, which mongodump writes for an empty collection', async () => {
    const bytes = Buffer.concat([MAGIC, HEAD, meta('a'), TERM, open('a'), TERM, eof('a', 0n), TERM]);
    const events = await collect(readArchive(split(bytes)));
    expect(events.slice(1)).toEqual([{ type: 'eof', db: 'db', collection: 'a', crc: 0n }]);
  });

  it('is a UserError with the "corrupt" exit code, naming the source', async () => {
    const error = await failure(Buffer.from('hello world, not an archive'));
    expect(error).toBeInstanceOf(UserError);
    expect(error.exitCode).toBe(ExitCode.corrupt);
    expect(error.message).toContain('of test.archive');
    expect(error.hint).toMatch(/re-download|re-create/i);
  });

  it('rejects a wrong magic number', async () => {
    const error = await failure(Buffer.from('{"json": "document"}'));
    expect(error.message).toMatch(/^not a mongodump archive: the first four bytes read 0x736a227b, expected the magic number 0x8199e26d \(at byte 0, of test.archive\)$/);
    expect(error.offset).toBe(0);
  });

  it('says so when handed gzip bytes directly', async () => {
    const error = await failure(Buffer.from([0x1f, 0x8b, 0x08, 0x00, 1, 2, 3, 4]));
    expect(error.message).toMatch(/not a mongodump archive.*looks gzip-compressed/);
  });

  it('rejects empty and too-short input', async () => {
    expect((await failure(Buffer.alloc(0))).message).toMatch(/not a mongodump archive: the input is empty/);
    expect((await failure(MAGIC.subarray(0, 3))).message).toMatch(/not a mongodump archive: the input is only 3 bytes long/);
  });

  it('rejects truncation anywhere, naming the offset and, inside a segment, the namespace', async () => {
    const p = parts();
    const whole = join(p);
    for (let cut = 4; cut < whole.length; cut++) {
      const error = await failure(whole.subarray(0, cut));
      expect(error.message, `cut at ${cut}`).toMatch(/^archive truncated/);
      expect(error.offset, `cut at ${cut}`).toBeLessThanOrEqual(cut);
    }
    const insideDoc2 = offsetOf(p, 'doc2') + 3;
    const error = await failure(whole.subarray(0, insideDoc2));
    expect(error.message).toBe(
      `archive truncated: the input ends inside a length prefix or terminator (3 bytes present) (at byte ${offsetOf(p, 'doc2')}, in namespace db.a, of test.archive)`,
    );
    const beforeEof = await failure(whole.subarray(0, offsetOf(p, 'eof')));
    expect(beforeEof.message).toMatch(/ends before this namespace's EOF header/);
    expect(beforeEof.namespace).toBe('db.a');
  });

  it('rejects a namespace the prelude lists but whose data never ends', async () => {
    const p = { MAGIC, HEAD, a: meta('a'), b: meta('b'), preludeEnd: TERM, eof: eof('a', 0n), eofEnd: TERM };
    expect((await failure(join(p))).message).toMatch(/namespace db\.b is listed in the prelude but its EOF header never came/);
  });

  it('rejects document lengths out of range', async () => {
    const p = parts();
    const tooSmall = Buffer.from(p.doc2);
    tooSmall.writeInt32LE(4, 0);
    const error = await failure(join({ ...p, doc2: tooSmall }));
    expect(error.message).toMatch(/^invalid document length 4 \(must be between 5 and 16777216/);
    expect(error.offset).toBe(offsetOf(p, 'doc2'));
    expect(error.namespace).toBe('db.a');
    const tooBig = Buffer.from(p.doc2);
    tooBig.writeInt32LE(16 * 1024 * 1024 + 1, 0);
    expect((await failure(join({ ...p, doc2: tooBig }))).message).toMatch(/invalid document length 16777217/);
  });

  it('rejects a document that does not end in 0x00', async () => {
    const p = parts();
    const bad = Buffer.from(p.doc1);
    bad[bad.length - 1] = 0x42;
    const error = await failure(join({ ...p, doc1: bad }));
    expect(error.message).toMatch(/invalid document: its last byte is 0x42, not 0x00/);
    expect(error.offset).toBe(offsetOf(p, 'doc1'));
  });

  it('rejects a CRC mismatch, naming the namespace and both values', async () => {
    const p = parts();
    const error = await failure(join({ ...p, eof: eof('a', CRC ^ 1n) }));
    expect(error.message).toMatch(/CRC-64 mismatch: the EOF header says 0x[0-9a-f]+, the namespace's documents hash to 0x[0-9a-f]+/);
    expect(error.namespace).toBe('db.a');
    expect(error.offset).toBe(offsetOf(p, 'eof'));
  });

  it('detects a flipped bit inside a document through the CRC', async () => {
    const p = parts();
    const flipped = Buffer.from(p.doc2);
    flipped[flipped.length - 3]! ^= 0x01;
    expect((await failure(join({ ...p, doc2: flipped }))).message).toMatch(/CRC-64 mismatch/);
  });

  it('rejects data for a namespace after its EOF, and a second EOF', async () => {
    const p = { MAGIC, HEAD, a: meta('a'), b: meta('b'), preludeEnd: TERM, eofA: eof('a', 0n), end1: TERM, openA: open('a'), doc1, end2: TERM };
    const error = await failure(join(p));
    expect(error.message).toMatch(/^data for a namespace after its EOF header/);
    expect(error.namespace).toBe('db.a');
    const twice = { MAGIC, HEAD, a: meta('a'), b: meta('b'), preludeEnd: TERM, eofA: eof('a', 0n), end1: TERM, again: eof('a', 0n), end2: TERM };
    expect((await failure(join(twice))).message).toMatch(/^a second EOF header for a namespace after its EOF header/);
  });

  it('rejects trailing bytes after every namespace has ended', async () => {
    const whole = join(parts());
    const error = await failure(Buffer.concat([whole, Buffer.from([0, 0, 0, 0, 0, 0])]));
    expect(error.message).toMatch(/^unexpected data after the end of the archive/);
    expect(error.offset).toBe(whole.length);
    expect((await failure(Buffer.concat([whole, TERM]))).message).toMatch(/unexpected data after the end/);
  });

  it('rejects data for a namespace the prelude does not list', async () => {
    const p = { ...parts(), open: open('stranger') };
    const error = await failure(join(p));
    expect(error.message).toMatch(/^data for a namespace that the prelude does not list/);
    expect(error.namespace).toBe('db.stranger');
  });

  it('accepts timeseries data under system.buckets.<name> for a timeseries prelude entry', async () => {
    const doc = bson({ _id: 1 });
    const bytes = Buffer.concat([
      MAGIC, HEAD, encodeNamespaceMetadata(namespace('db', 'weather', 'timeseries')), TERM,
      open('system.buckets.weather'), doc, TERM, eof('system.buckets.weather', crc64(doc)), TERM,
    ]);
    const events = await collect(readArchive(split(bytes)));
    expect(events.map((e) => e.type === 'prelude' ? 'prelude' : `${e.type}:${e.collection}`)).toEqual([
      'prelude', 'segment:system.buckets.weather', 'eof:system.buckets.weather',
    ]);
  });

  it('rejects a terminator where a namespace header belongs', async () => {
    const p = { ...parts(), open: TERM };
    expect((await failure(join(p))).message).toMatch(/^unexpected terminator where a namespace header was expected/);
  });

  it('rejects a document right after an EOF header', async () => {
    const p = { MAGIC, HEAD, a: meta('a'), preludeEnd: TERM, eof: eof('a', 0n), doc1, eofEnd: TERM };
    const error = await failure(join(p));
    expect(error.message).toMatch(/^a document follows an EOF header/);
    expect(error.namespace).toBe('db.a');
  });

  it('rejects malformed control documents', async () => {
    const withField = bson({ db: 'db', collection: 'a', EOF: false, CRC: 0n, extra: 1 });
    expect((await failure(join({ ...parts(), open: withField }))).message).toMatch(/namespace header has an unexpected field "extra"/);
    const noCollection = bson({ db: 'db', EOF: false, CRC: 0n });
    expect((await failure(join({ ...parts(), open: noCollection }))).message).toMatch(/field "collection" is missing/);
    const badCrcType = bson({ db: 'db', collection: 'a', EOF: true, CRC: 'zero' });
    expect((await failure(join({ ...parts(), eof: badCrcType }))).message).toMatch(/field "CRC" is not a 64-bit integer/);
    const notBson = Buffer.from([8, 0, 0, 0, 0x20, 0x61, 0, 0]);
    expect((await failure(join({ ...parts(), HEAD: notBson }))).message).toMatch(/archive header is not valid BSON/);
    expect((await failure(join({ ...parts(), HEAD: TERM }))).message).toMatch(/archive header missing/);
  });

  it('rejects a namespace listed twice in the prelude', async () => {
    const p = { ...parts(), again: meta('a') };
    const reordered = { MAGIC: p.MAGIC, HEAD: p.HEAD, meta: p.meta, again: p.again, rest: join({ ...parts(), MAGIC: Buffer.alloc(0), HEAD: Buffer.alloc(0), meta: Buffer.alloc(0) }) };
    expect((await failure(join(reordered))).message).toMatch(/^namespace listed twice in the prelude/);
  });
});
