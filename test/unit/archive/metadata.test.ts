import { Double, Int32, Long } from 'bson';
import { describe, expect, it } from 'vitest';
import { ArchiveFormatError } from '../../../runtime/archive/errors.js';
import { buildCollectionMetadata, parseCollectionMetadata } from '../../../runtime/archive/metadata.js';

// Copied from the prelude of test/fixtures/archive/mongodump.archive (written by mongodump).
const FROM_MONGODUMP =
  '{"indexes":[{"v":{"$numberInt":"2"},"key":{"Email":{"$numberInt":"1"}},"name":"Email_1","unique":true},{"v":{"$numberInt":"2"},"key":{"LastName":{"$numberInt":"1"},"FirstName":{"$numberInt":"1"}},"name":"LastName_1_FirstName_1"},{"v":{"$numberInt":"2"},"key":{"_id":{"$numberInt":"1"}},"name":"_id_"}],"uuid":"257c102d23b349bfaca28a534e406ba7","collectionName":"pmInvestigator","type":"collection"}';

describe('collection metadata', () => {
  it('builds exactly the string mongodump writes', () => {
    expect(
      buildCollectionMetadata({
        collectionName: 'pmInvestigator',
        type: 'collection',
        options: {},
        uuid: '257c102d23b349bfaca28a534e406ba7',
        indexes: [
          { v: 2, key: { Email: 1 }, name: 'Email_1', unique: true },
          { v: 2, key: { LastName: 1, FirstName: 1 }, name: 'LastName_1_FirstName_1' },
          { v: 2, key: { _id: 1 }, name: '_id_' },
        ],
      }),
    ).toBe(FROM_MONGODUMP);
  });

  it('parses it into typed fields and builds the identical string back', () => {
    const parsed = parseCollectionMetadata(FROM_MONGODUMP);
    expect(parsed.collectionName).toBe('pmInvestigator');
    expect(parsed.type).toBe('collection');
    expect(parsed.uuid).toBe('257c102d23b349bfaca28a534e406ba7');
    expect(parsed.options).toEqual({});
    expect(parsed.indexes.map((i) => i.name)).toEqual(['Email_1', 'LastName_1_FirstName_1', '_id_']);
    expect(parsed.indexes[0]!.unique).toBe(true);
    expect(parsed.indexes[0]!.key.Email).toEqual(new Int32(1));
    expect(buildCollectionMetadata(parsed)).toBe(FROM_MONGODUMP);
  });

  it('puts non-empty options first and leaves out an absent uuid and type, as mongodump does', () => {
    const json = buildCollectionMetadata({
      collectionName: 'log',
      options: { capped: true, size: Long.fromNumber(1 << 20), validator: { $jsonSchema: { required: ['a'] } } },
      indexes: [{ v: 2, key: { at: -1 }, name: 'at_-1', expireAfterSeconds: new Double(3600) }],
    });
    expect(json).toBe(
      '{"options":{"capped":true,"size":{"$numberLong":"1048576"},"validator":{"$jsonSchema":{"required":["a"]}}},' +
        '"indexes":[{"v":{"$numberInt":"2"},"key":{"at":{"$numberInt":"-1"}},"name":"at_-1","expireAfterSeconds":{"$numberDouble":"3600.0"}}],' +
        '"collectionName":"log"}',
    );
    const parsed = parseCollectionMetadata(json);
    expect(parsed.uuid).toBeUndefined();
    expect(parsed.type).toBe('');
    expect(buildCollectionMetadata(parsed)).toBe(json);
  });

  it('describes a view without indexes', () => {
    const json = buildCollectionMetadata({ collectionName: 'v', type: 'view', options: { viewOn: 'c', pipeline: [{ $match: { a: 1 } }] }, indexes: [] });
    expect(parseCollectionMetadata(json)).toEqual({
      collectionName: 'v',
      type: 'view',
      options: { viewOn: 'c', pipeline: [{ $match: { a: new Int32(1) } }] },
      indexes: [],
    });
  });

  it('rejects malformed metadata with an ArchiveFormatError naming the namespace', () => {
    const bad = (json: string) => () => parseCollectionMetadata(json, { namespace: 'db.c' });
    expect(bad('{not json')).toThrow(ArchiveFormatError);
    expect(bad('{not json')).toThrow(/collection metadata is not valid Extended JSON.*\(in namespace db\.c\)/);
    expect(bad('[]')).toThrow(/is not a JSON object/);
    expect(bad('{"indexes":{}}')).toThrow(/"indexes" is not an array/);
    expect(bad('{"indexes":[{"name":"x"}]}')).toThrow(/index #0 lacks a "key" object/);
    expect(bad('{"indexes":[],"options":5}')).toThrow(/"options" is not an object/);
    expect(bad('{"indexes":[],"uuid":5}')).toThrow(/"uuid" is not a string/);
  });
});
