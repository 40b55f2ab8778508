/**
 * Archive level: a document decoded for restore re-encodes to exactly the
 * bytes the archive held, for every BSON type and the edge values plain
 * decoding gets wrong. (The old decode — `deserialize` with type-keeping
 * options — fails the key-order and far-date cases here.)
 */
import { BSON, BSONRegExp, BSONSymbol, Binary, Code, Decimal128, Double, Int32, Long, MaxKey, MinKey, ObjectId, Timestamp, deserialize, serialize, type Document } from 'bson';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../../runtime/errors.js';
import { decodeFor } from '../../../runtime/restore/load.js';
import { EXACT_DECODE, UnrepresentableValueError, WideDate, decodeExact } from '../../../runtime/util/bson-exact.js';

/** A raw document with one datetime field set to `ms` (bson cannot build one beyond JavaScript's range). */
function withDate(ms: bigint, extra: Document = {}): Buffer {
  const raw = Buffer.from(serialize({ _id: 7, when: new Date(0), ...extra }));
  const at = raw.indexOf(Buffer.from('when\0')) + 5;
  raw.writeBigInt64LE(ms, at);
  return raw;
}

const EDGE_VALUES: Array<[string, Document | Buffer]> = [
  ['numeric-string keys keep their order', { _id: 1, m: new Map<string, unknown>([['b', 1], ['2', 2], ['a', new Map([['10', 1], ['x', 2], ['0', 3]])]]) }],
  ['top-level numeric key first-but-not', new Map<string, unknown>([['_id', 2], ['z', 1], ['5', 2]])],
  ['numeric keys inside arrays of documents', { _id: 3, list: [new Map<string, unknown>([['k', 1], ['1', 2]])] }],
  ['-0.0', { _id: 4, z: new Double(-0), one: new Double(1) }],
  ['Int64 extremes', { _id: 5, min: Long.MIN_VALUE, max: Long.MAX_VALUE, int32: new Int32(-2147483648) }],
  ['Decimal128', { _id: 6, d: Decimal128.fromString('-1.000000000000000000000000000000001E-6143'), nan: Decimal128.fromString('NaN') }],
  ['MinKey / MaxKey', { _id: 7, lo: new MinKey(), hi: new MaxKey() }],
  ['Code, Code with scope, Symbol', { _id: 8, c: new Code('function () {}'), cs: new Code('x', { y: 1 }), s: new BSONSymbol('sym') }],
  ['binary subtypes, regex, timestamp, ObjectId, null, undefined', { _id: 9, u: new Binary(Buffer.alloc(16, 1), 4), l: new Binary(Buffer.alloc(16, 2), 3), r: new BSONRegExp('^a', 'imx'), t: new Timestamp({ t: 1, i: 2 }), o: new ObjectId('0123456789abcdef01234567'), n: null, un: undefined }],
  ['a date just beyond JavaScript (8.64e15 + 1 ms)', withDate(8_640_000_000_000_001n)],
  ['a date far in the past, nested', withDate(-9_000_000_000_000_000n, { also: { b: 1, '2': 2 } })],
  ['dates inside the range', { _id: 12, d: new Date(-62135596800000), e: new Date(253402300799999) }],
];

describe('exact decode for restore', () => {
  it.each(EDGE_VALUES)('%s: decode then encode gives back the archive bytes', (_label, value) => {
    const raw = Buffer.isBuffer(value) ? value : Buffer.from(BSON.serialize(value, { ignoreUndefined: false }));
    const decoded = decodeExact(raw);
    expect(Buffer.from(serialize(decoded, { ignoreUndefined: false })).equals(raw)).toBe(true);
  });

  it('the plain decode reorders keys and turns far dates into 1970 (what this guards against)', () => {
    const raw = Buffer.from(serialize({ _id: 1, m: new Map([['b', 1], ['2', 2]]) }));
    expect(Buffer.from(serialize(deserialize(raw, EXACT_DECODE))).equals(raw)).toBe(false);
    const far = withDate(8_640_000_000_000_001n);
    expect(Buffer.from(serialize(deserialize(far, EXACT_DECODE))).equals(far)).toBe(false);
  });

  it('keeps far dates as WideDate with exact milliseconds', () => {
    const decoded = decodeExact(withDate(-8_700_000_000_000_000n)) as Map<string, unknown>;
    const when = decoded.get('when') as WideDate;
    expect(when).toBeInstanceOf(WideDate);
    expect(when.getTime()).toBe(-8_700_000_000_000_000);
  });

  it('refuses a date the driver cannot carry exactly, naming the collection, the _id and the field', () => {
    const raw = withDate(2n ** 60n);
    expect(() => decodeExact(raw)).toThrow(UnrepresentableValueError);
    let error: unknown;
    try {
      decodeFor('pmStudy', raw);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).message).toMatch(/^pmStudy document 7: when: datetime 1152921504606846976 ms is beyond/);
    expect((error as UserError).hint).toMatch(/target was left unchanged/);
  });
});
