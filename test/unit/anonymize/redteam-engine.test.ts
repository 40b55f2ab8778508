/**
 * Leaks found by the red team in the allow-list engine: each test plants a
 * marker in a hostile position and asserts it is nowhere in the output bytes.
 */
import { BSONRegExp, DBRef, Decimal128, Double, Int32, Long, ObjectId } from 'bson';
import { describe, expect, it } from 'vitest';
import { anonymizeArchive } from '../../../runtime/anonymize/filter.js';
import { anonymizeBytes, createAnonymizer } from '../../../runtime/anonymize/engine.js';
import { TEST_KEY, bson, collect, decode, eof, fromArray, prelude, rules, segment } from './helpers.js';

function anonymizeRaw(yaml: string, collection: string, doc: Record<string, unknown>): Buffer {
  const anonymizer = createAnonymizer(rules(yaml), TEST_KEY).forCollection(collection)!;
  return anonymizeBytes(bson(doc), anonymizer);
}

function expectAbsent(out: Buffer, ...markers: (string | Buffer)[]) {
  for (const marker of markers) expect(out.includes(marker), `marker ${String(marker)} in output`).toBe(false);
}

describe('red team #1: DBRef $ref/$db are data unless they name a published collection', () => {
  const yaml = 'rules:\n  people:\n    fields:\n      Name: fake_name\n  projects:\n    default: mask\n';
  it('masks a $ref that names no rule collection, and every $db, at any depth', () => {
    const out = anonymizeRaw(yaml, 'people', {
      Affiliation: { $ref: 'Jane Shipref Doe', $id: new Long(447700900555), $db: 'Janedb Refdoe' },
      Deep: [{ x: { $ref: 'janeref.doe@uni.ac.uk', $id: 1 } }],
    });
    expectAbsent(out, 'Jane Shipref Doe', 'Janedb Refdoe', 'janeref.doe@uni.ac.uk');
  });
  it('keeps a $ref that names a collection the rules name', () => {
    const out = decode(anonymizeRaw(yaml, 'people', { P: new DBRef('projects', new ObjectId('0123456789abcdef01234567')) }));
    expect(out.P.collection).toBe('projects');
  });
  it('refuses, rather than keeps, an unknown $ref under unnamed_fields: refuse', () => {
    expect(() => anonymizeRaw('unnamed_fields: refuse\nrules:\n  people:\n    fields:\n      Name: fake_name\n', 'people', { Name: 'x', $ref: 'Jane Refuse' })).toThrow();
  });
});

describe('red team #2: keys of an unnamed subdocument are pseudonymized under the mask default', () => {
  const keys = ['janeshipkey@universität.de', 'Jane_Shipkey', 'shipkey@uni.xn--p1ai', 'JaneDoe', 'jdoe42', 'Doe, Jane', 'jane＠uni.ac.uk', '07700 900123'];
  it('replaces every key with a stable keyed pseudonym', () => {
    const doc = { Tags: Object.fromEntries(keys.map((k) => [k, 1])), Nested: { Map: { JaneNested: 'x' } } };
    const out = anonymizeRaw('rules:\n  c:\n    fields:\n      Name: fake_name\n', 'c', doc);
    expectAbsent(out, ...keys, 'JaneNested');
    const decoded = decode(out);
    expect(Object.keys(decoded)).toEqual(['Tags', 'Nested']); // top-level field names are schema
    expect(Object.keys(decoded.Tags).every((k) => /^key-[0-9a-f]{24}$/.test(k))).toBe(true);
    expect(Object.keys(decoded.Tags)).toEqual(Object.keys(decode(anonymizeRaw('rules:\n  c:\n    fields:\n      Name: fake_name\n', 'c', doc)).Tags));
  });
  it('keeps keys at named paths and under keep_subtree', () => {
    const yaml = 'rules:\n  c:\n    fields:\n      Contact.Email: hash_email\n      Prefs: { transform: keep_subtree, reason: ui settings }\n';
    const out = decode(anonymizeRaw(yaml, 'c', { Contact: { Email: 'a@b.org', Room: '1' }, Prefs: { Theme: { Dark: true } } }));
    expect(Object.keys(out.Contact)).toEqual(['Email', expect.stringMatching(/^key-[0-9a-f]{24}$/)]); // Room: no rule names it
    expect(out.Prefs).toEqual({ Theme: { Dark: true } });
  });
  it('does not print an unnamed subdocument key in the refusal error', () => {
    try {
      anonymizeRaw('unnamed_fields: refuse\nrules:\n  c:\n    fields:\n      Name: fake_name\n', 'c', { Name: 'x', Subs: { Jane_Refusedoe: 1 } });
      expect.unreachable();
    } catch (error) {
      expect(String((error as { path?: string }).path)).not.toContain('Jane_Refusedoe');
    }
  });
});

describe('red team #7: mask keeps no raw bytes', () => {
  const yaml = 'rules:\n  c:\n    fields:\n      Name: fake_name\n';
  it('masks a DBPointer namespace and unknown regex flags', () => {
    const dbPointer = Buffer.concat([
      Buffer.from([0x0c]), Buffer.from('P\0'),
      Buffer.from([25, 0, 0, 0]), Buffer.from('jane.dbpointer@uni.ac.uk\0'), Buffer.from('0123456789ab'),
    ]);
    const doc = Buffer.concat([Buffer.alloc(4), dbPointer, Buffer.from([0])]);
    doc.writeInt32LE(doc.length, 0);
    const anonymizer = createAnonymizer(rules(yaml), TEST_KEY).forCollection('c')!;
    expectAbsent(anonymizer.anonymize(doc), 'jane.dbpointer@uni.ac.uk');
    // Raw bytes: drivers refuse to build such a regex, a hostile archive need not.
    const raw = bson({ R: new BSONRegExp('x', 'i') });
    const withFlags = Buffer.concat([raw.subarray(0, raw.indexOf('x\0i\0') + 2), Buffer.from('janeflags\0'), Buffer.from([0])]);
    withFlags.writeInt32LE(withFlags.length, 0);
    const out = anonymizer.anonymize(withFlags);
    expectAbsent(out, 'janeflags');
    expect(decode(out).R.options).toBe('ls'); // only known letters survive (sorted)
  });
  it('keys numeric ids below the top level and keeps the top-level _id', () => {
    const out = anonymizeRaw(yaml, 'c', {
      _id: new Int32(447700901),
      Contact: { _id: new Long(447700900123), $id: Decimal128.fromString('447700900124') },
      Other: { _id: new Double(447700900125), _idx: new Int32(447700902) },
    });
    const decoded = decode(out);
    expect(decoded._id).toEqual(new Int32(447700901));
    expect(decoded.Contact._id).toBeInstanceOf(Long);
    for (const marker of ['447700900123', '447700900124', '447700900125']) {
      expect(JSON.stringify(decoded, (_k, v) => (typeof v === 'bigint' ? String(v) : v))).not.toContain(marker);
    }
    expect(String(decoded.Contact._id)).not.toBe('447700900123');
    expect(decoded.Contact.$id.toString()).not.toBe('447700900124');
    expect(decoded.Other._id).not.toBe(447700900125);
  });
});

describe('the coverage check runs inside anonymizeArchive whenever a key is given', () => {
  it('refuses a kept field that looks like personal data, before the input ends', async () => {
    const yaml = 'rules:\n  c:\n    default: { transform: keep_subtree, reason: research content }\n';
    const events = [prelude('c'), segment('c', [{ _id: 1, Email: 'jane.checkhook@uni.ac.uk' }]), eof('c')];
    await expect(collect(anonymizeArchive(fromArray(events), { rules: rules(yaml), key: TEST_KEY }))).rejects.toThrow(/coverage check/);
    // `check: false` is the engine alone: it runs.
    await expect(collect(anonymizeArchive(fromArray(events), { rules: rules(yaml), key: TEST_KEY, check: false }))).resolves.toBeTruthy();
  });
});

describe('red team #10: time-series buckets get their collection\'s field rules', () => {
  it('applies rules for X to meta, control.min/max and data of system.buckets.X', () => {
    const yaml = 'rules:\n  metrics:\n    fields:\n      Who: fake_name\n      Value: { transform: keep, reason: the measurement }\n';
    const bucket = {
      _id: new ObjectId(),
      control: { version: 1, min: { Who: 'Jane Tsmin', Value: 1 }, max: { Who: 'Jane Tsmax', Value: 9 } },
      meta: { Who: 'Jane Tsmeta' },
      data: { Who: { '0': 'Jane Tsdata', '1': 'Jane Tsdata2' }, Value: { '0': 1, '1': 9 }, Other: { '0': 'jane.tsother@uni.ac.uk' } },
    };
    const out = anonymizeRaw(yaml, 'system.buckets.metrics', bucket);
    expectAbsent(out, 'Jane Tsmin', 'Jane Tsmax', 'Jane Tsmeta', 'Jane Tsdata', 'jane.tsother');
    const decoded = decode(out);
    expect(Object.values(decoded.data.Value).map(Number)).toEqual([1, 9]); // kept measurements stay
    expect(Object.keys(decoded.data.Who)).toEqual(['0', '1']);
  });
});
