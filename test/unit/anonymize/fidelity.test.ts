/**
 * Byte fidelity through a whole archive: documents are built byte by byte
 * (the test server refuses some of these values, and a JavaScript object
 * cannot hold others), written as a mongodump archive, anonymized, written
 * again and read back. A document no rule changes must come out with the
 * very same bytes; a transformed one may differ only in the transformed value.
 */
import { BSON, Decimal128, Long } from 'bson';
import { describe, expect, it } from 'vitest';
import { ArchiveWriter, readArchive, writeEvents } from '../../../runtime/archive/index.js';
import type { ArchiveEvent } from '../../../runtime/archive/types.js';
import { T, encodeString } from '../../../runtime/anonymize/bson-raw.js';
import { anonymizeArchive } from '../../../runtime/anonymize/filter.js';
import { MemorySink, namespace } from '../archive/helpers.js';
import { TEST_KEY, rules } from './helpers.js';

function element(type: number, name: string, value: Buffer): Buffer {
  return Buffer.concat([Buffer.from([type]), Buffer.from(name, 'utf8'), Buffer.from([0]), value]);
}
function doc(...elements: Buffer[]): Buffer {
  const body = Buffer.concat(elements);
  const out = Buffer.alloc(4 + body.length + 1);
  out.writeInt32LE(out.length, 0);
  body.copy(out, 4);
  return out;
}
const int64 = (value: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigInt64LE(value);
  return b;
};
const double = (value: number) => {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(value);
  return b;
};
const int32 = (value: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32LE(value);
  return b;
};

/** Every type and edge value, in an order a JavaScript object would change (numeric keys after "b"). */
function everyType(n: number): Buffer {
  return doc(
    element(T.int32, '_id', int32(n)),
    element(T.document, 'm', doc(element(T.int32, 'b', int32(1)), element(T.int32, '2', int32(2)), element(T.int32, '1', int32(3)))),
    element(T.date, 'far', int64(8_640_000_000_000_001n)), // beyond JavaScript's Date range
    element(T.date, 'before', int64(-8_640_000_000_000_001n)),
    element(T.double, 'negzero', double(-0)),
    element(T.double, 'nan', Buffer.from('010000000000f87f', 'hex')), // a NaN payload JavaScript would canonicalize
    element(T.decimal128, 'dec', Buffer.from(BSON.serialize({ d: Decimal128.fromString('-0.000001234E-6000') })).subarray(7, 23)),
    element(T.minKey, 'min', Buffer.alloc(0)),
    element(T.maxKey, 'max', Buffer.alloc(0)),
    element(T.code, 'code', encodeString('function () { return 1; }')),
    element(T.symbol, 'sym', encodeString('a symbol')),
    element(T.int64, 'i64max', int64(9_223_372_036_854_775_807n)),
    element(T.int64, 'i64min', int64(-9_223_372_036_854_775_808n)),
    element(T.timestamp, 'ts', int64(0x7fffffff00000001n)),
    element(T.undefined, 'undef', Buffer.alloc(0)),
    element(T.array, 'arr', doc(element(T.string, '0', encodeString('x')), element(T.null, '1', Buffer.alloc(0)))),
    element(T.string, 'Email', encodeString(`person${n}@uni.ac.uk`)),
  );
}

async function roundTrip(events: ArchiveEvent[], yaml: string): Promise<Buffer[]> {
  async function* source() {
    for (const e of events) yield e;
  }
  // Write the input archive, read it back (as a restore would), anonymize, write, read again.
  const write = async (input: AsyncIterable<ArchiveEvent>) => {
    const sink = new MemorySink();
    const writer = new ArchiveWriter(sink);
    await writeEvents(input, writer);
    await writer.end();
    return Buffer.concat(sink.chunks);
  };
  async function* chunks(bytes: Buffer) {
    yield bytes;
  }
  const archive = await write(source());
  const anonymized = await write(anonymizeArchive(readArchive(chunks(archive)), { rules: rules(yaml), key: TEST_KEY, check: false /* the engine alone: these rules keep emails on purpose */ }));
  const out: Buffer[] = [];
  for await (const event of readArchive(chunks(anonymized))) if (event.type === 'segment') out.push(...event.documents.map((d) => Buffer.from(d)));
  return out;
}

describe('byte fidelity at the archive level', () => {
  const documents = Array.from({ length: 20 }, (_, i) => everyType(i));
  const events: ArchiveEvent[] = [
    { type: 'prelude', header: { concurrentCollections: 1, version: '0.1', serverVersion: '7.0.12', toolVersion: 'test' }, namespaces: [namespace('db', 'c')] },
    { type: 'segment', db: 'db', collection: 'c', documents },
    { type: 'eof', db: 'db', collection: 'c', crc: 0n },
  ];
  const hex = (b: Buffer) => b.toString('hex');

  it('a document no rule changes is written byte for byte', async () => {
    // scrub: false, or the kept Email string would be scrubbed (which the next tests rely on).
    const out = await roundTrip(events, 'version: 2\nrules: { c: { default: { transform: keep_subtree, reason: fidelity test, scrub: false } } }');
    expect(out.map(hex).sort()).toEqual(documents.map(hex).sort());
  });

  it('a transformed document differs only in the transformed value', async () => {
    const out = await roundTrip(events, 'version: 2\nrules: { c: { default: { transform: keep_subtree, reason: fidelity test }, fields: { Email: hash_email } } }');
    expect(out).toHaveLength(documents.length);
    const byId = new Map(out.map((d) => [d.readInt32LE(9), d]));
    for (const original of documents) {
      const anonymized = byId.get(original.readInt32LE(9))!;
      const emailAt = original.indexOf(Buffer.from([T.string, ...Buffer.from('Email\0')]));
      // Everything before the Email element is identical; only the value (and the document length) differ.
      expect(hex(anonymized.subarray(4, emailAt))).toBe(hex(original.subarray(4, emailAt)));
      expect(anonymized.toString('latin1')).not.toContain('uni.ac.uk');
      expect(anonymized.toString('latin1')).toContain('@anonymized.syrf.local');
    }
  });

  it('writes documents in a keyed order, not in input order, the same on every run', async () => {
    const yaml = 'rules: { c: { default: { transform: keep_subtree, reason: order test } } }';
    const many = Array.from({ length: 200 }, (_, i) => everyType(i));
    const input: ArchiveEvent[] = [events[0]!, { type: 'segment', db: 'db', collection: 'c', documents: many }, events[2]!];
    const a = await roundTrip(input, yaml);
    const b = await roundTrip([input[0]!, { type: 'segment', db: 'db', collection: 'c', documents: [...many].reverse() }, input[2]!], yaml);
    const ids = (docs: Buffer[]) => docs.map((d) => d.readInt32LE(9));
    expect(ids(a)).toEqual(ids(b));
    expect(ids(a)).not.toEqual(ids(many));
    expect(Long.fromNumber(ids(a).length).toNumber()).toBe(200);
  });
});
