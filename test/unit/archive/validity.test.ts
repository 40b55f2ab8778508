/**
 * Whatever a restore would refuse, `verify` and `anonymize` refuse too: the
 * archive decoder checks every document and every prelude entry, and every
 * consumer reads through it.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BSON, Binary, Code, Decimal128, Double, Int32, Long, MaxKey, MinKey, ObjectId, BSONRegExp, BSONSymbol, Timestamp } from 'bson';
import { readArchive } from '../../../runtime/archive/reader.js';
import { ArchiveFormatError } from '../../../runtime/archive/errors.js';
import { bsonProblem } from '../../../runtime/archive/bson-check.js';
import { ArchiveWriter } from '../../../runtime/archive/writer.js';
import { buildCollectionMetadata } from '../../../runtime/archive/metadata.js';
import { runCli } from '../../support/cli.js';
import { archiveOf, patchBytes, storeSnapshot } from '../../support/stored-snapshot.js';
import { MemorySink, collect, rejection, split } from './helpers.js';
import { seededRandom } from '../../support/random.js';

const EXACT = { promoteValues: false, promoteLongs: false, promoteBuffers: false, bsonRegExp: true } as const;

const everyType = () =>
  Buffer.from(
    BSON.serialize({
      _id: new ObjectId('65a1b2c3d4e5f60718293a4b'),
      s: 'héllo AAAA',
      n: { deep: { er: ['BBBB', 1, new Double(-0)] } },
      i: new Int32(7),
      l: Long.fromString('9223372036854775807'),
      d: new Decimal128('1.5E+6143'),
      b: true,
      dt: new Date(0),
      nul: null,
      re: new BSONRegExp('a.*b', 'i'),
      code: new Code('function(){}'),
      scope: new Code('x', { y: 1 }),
      sym: new BSONSymbol('sym'),
      ts: new Timestamp({ t: 1, i: 2 }),
      bin: new Binary(Buffer.from('xyz'), 0),
      old: new Binary(Buffer.from('xyz'), 2),
      min: new MinKey(),
      max: new MaxKey(),
    }),
  );

describe('bsonProblem', () => {
  it('accepts every BSON type', () => {
    expect(bsonProblem(everyType())).toBeNull();
  });

  it('finds invalid UTF-8 in a nested string and in a key, naming the field', () => {
    const inString = patchBytes(everyType(), 'BBBB', [0x42, 0xc3, 0x28, 0x42]);
    expect(bsonProblem(inString)).toEqual({ problem: 'a string is not valid UTF-8', path: 'n.deep.er.0' });
    const key = Buffer.from(BSON.serialize({ a: { kZZk: 1 } }));
    expect(bsonProblem(patchBytes(key, 'kZZk', [0x6b, 0xff, 0xfe, 0x6b]))).toMatchObject({ problem: 'a field name is not valid UTF-8' });
  });

  it('refuses everything the bson deserializer refuses (differential, 5 000 seeded mutations)', { timeout: 120_000 }, () => {
    const random = seededRandom(11);
    const base = everyType();
    let refusedByBson = 0;
    for (let n = 0; n < 5_000; n++) {
      const doc = Buffer.from(base);
      for (let k = 1 + Math.floor(random() * 3); k > 0; k--) doc[Math.floor(random() * doc.length)] = Math.floor(random() * 256);
      let bsonThrew = false;
      try {
        BSON.deserialize(doc, EXACT);
      } catch {
        bsonThrew = true;
      }
      if (bsonThrew) {
        refusedByBson++;
        expect(bsonProblem(doc), `mutation ${n}: ${doc.toString('hex')}`).not.toBeNull();
      }
    }
    expect(refusedByBson).toBeGreaterThan(250);
  });

  it('refuses nesting deeper than MongoDB allows instead of overflowing the stack', () => {
    let doc: Record<string, unknown> = {};
    for (let i = 0; i < 250; i++) doc = { a: doc };
    expect(bsonProblem(Buffer.from(BSON.serialize(doc)))?.problem).toMatch(/nested more than 200 levels/);
  });
});

describe('the archive decoder refuses what a restore could not load', () => {
  it('names the collection, the document number and the byte offset of invalid UTF-8', async () => {
    const bad = patchBytes(everyType(), 'AAAA', [0x41, 0xed, 0xa0, 0x80]);
    const archive = await archiveOf({ people: [everyType(), bad] });
    for (const cuts of [[], [37], [100, 101, 102]]) {
      const error = await rejection(collect(readArchive(split(archive, cuts))));
      expect(error).toBeInstanceOf(ArchiveFormatError);
      expect(error.message).toMatch(/document #2 of the collection is not valid BSON at field "s": a string is not valid UTF-8 \(at byte \d+, in namespace syrftest\.people\)/);
      expect((error as ArchiveFormatError).offset).toBe(archive.indexOf(bad));
    }
  });

  it('refuses a NUL byte in prelude metadata, collection name or db name', async () => {
    const metadata = buildCollectionMetadata({ collectionName: 'people', indexes: [] });
    for (const entry of [
      { db: 'syrftest', collection: 'peo\0ple', metadata },
      { db: 'syrf\0test', collection: 'people', metadata },
      { db: 'syrftest', collection: 'people', metadata: metadata + '\0' },
      { db: 'syrftest', collection: 'people', metadata: metadata.replace('"people"', '"peo\\u0000ple"').replace('}', '}\0') },
    ]) {
      const sink = new MemorySink();
      const writer = new ArchiveWriter(sink);
      await writer.writePrelude({ concurrentCollections: 1, version: '0.1', serverVersion: '7.0.12', toolVersion: 't' }, [{ ...entry, size: 0, type: 'collection' }]);
      await writer.writeEof(entry.db, entry.collection);
      await writer.end();
      const error = await rejection(collect(readArchive(split(sink.bytes))));
      expect(error, JSON.stringify(entry)).toBeInstanceOf(ArchiveFormatError);
      expect(error.message).toMatch(/contains a NUL byte/);
    }
  });

  it('refuses metadata a restore cannot parse', async () => {
    const good = await archiveOf({ people: [{ _id: 1 }] });
    const text = good.toString('latin1');
    const broken = Buffer.from(text.replace('"indexes":[', '"indexes":{'), 'latin1');
    const error = await rejection(collect(readArchive(split(broken))));
    expect(error).toBeInstanceOf(ArchiveFormatError);
    expect(error.message).toMatch(/collection metadata is not valid Extended JSON.*in namespace syrftest\.people/);
  });
});

describe('through the CLI', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'syrf-validity-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('verify exits 4 with one clear line naming collection and offset; anonymize refuses and leaves no file', { timeout: 120_000 }, async () => {
    const bad = patchBytes(everyType(), 'AAAA', [0x41, 0xc3, 0x28, 0x41]);
    const { storeUrl } = await storeSnapshot(join(root, 'store'), '2026-01-09', { people: [everyType(), bad] });
    const verify = await runCli(['verify', 'latest', '--from', storeUrl]);
    expect(verify.code).toBe(4);
    expect(verify.stderr).toMatch(/failed verification: archive structure: document #2 of the collection is not valid BSON at field "s": a string is not valid UTF-8 \(at byte \d+, in namespace syrftest\.people\)/);
    expect(verify.stderr).not.toMatch(/\n\s+at /);

    const out = join(root, 'out');
    const anonymize = await runCli(
      ['anonymize', '--rules', 'rules/anonymization-rules.yaml', '--input', join(root, 'store/prod/2026-01-09/dump.gz'), '--output', join(out, 'x.archive')],
      { env: { SYRF_ANONYMIZATION_KEY: 'n7Rk2Qx9LvB4mT8wZ1cY6pH3dF5gJ0sAq8Ue2Xi7oW4tN9bK3yV6zM1rC5aE0hG' } },
    );
    expect(anonymize.code).not.toBe(0);
    expect(anonymize.stderr).not.toMatch(/\n\s+at /);
    expect(await readdir(root)).not.toContain('out');
  });
});
