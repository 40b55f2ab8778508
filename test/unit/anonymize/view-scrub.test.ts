import { BSONRegExp, Binary, Code, Decimal128, Long } from 'bson';
import { describe, expect, it } from 'vitest';
import { buildCollectionMetadata, parseCollectionMetadata } from '../../../runtime/archive/metadata.js';
import { createAnonymizer } from '../../../runtime/anonymize/engine.js';
import { createTransformContext } from '../../../runtime/anonymize/key.js';
import { scrubCollectionMetadata } from '../../../runtime/anonymize/metadata-scrub.js';
import { viewScopeOf } from '../../../runtime/anonymize/view-scrub.js';
import { TEST_KEY, rules } from './helpers.js';

const RULES = rules(`
rules:
  pmInvestigator:
    fields:
      Email: hash_email
      FirstName: { transform: fake_name, part: first }
      Status: { transform: keep, reason: an enum }
  pmProject:
    fields:
      OwnerEmail: hash_email
  admins: {}
`);

// Every value a view could carry that identifies a person, each in a different position.
const PII = ['alice.smith@uni.ac.uk', 'Bob Jones', 'carol@example.org', 'Dana Whitfield', '4155550123', 'erin@lab.org', 'Frank Ocean', 'grace.hopper', 'heidi@x.io', 'ivan petrov', 'judy@corp.com', 'Mallory Key', 'niaj@y.org', 'oscar@z.org'];

const PIPELINE = [
  { $match: { $and: [{ Email: 'alice.smith@uni.ac.uk' }, { $or: [{ FirstName: { $in: ['Bob Jones', 'Dana Whitfield'] } }, { Status: { $ne: 'Frank Ocean' } }] }] } },
  { $match: { 'carol@example.org': 1, Phone: 4155550123, Notes: { $regex: 'grace.hopper', $options: 'i' }, Code: new Code('return "heidi@x.io"') } },
  { $match: { $expr: { $and: [{ $eq: ['$Email', 'erin@lab.org'] }, { $in: ['ivan petrov', '$Aliases'] }] } } },
  {
    $lookup: {
      from: 'judy@corp.com',
      let: { mallory_key: '$Email' },
      pipeline: [{ $match: { OwnerEmail: { $in: ['niaj@y.org'] } } }, { $match: { $expr: { $eq: ['$$mallory_key', { $literal: 'oscar@z.org' }] } } }],
      as: 'Mallory Key',
    },
  },
  { $project: { Email: 1, Label: { $concat: ['Bob Jones', ' - ', '$FirstName'] }, Blob: new Binary(Buffer.from('alice.smith@uni.ac.uk')), Big: Long.fromString('4155550123'), D: Decimal128.fromString('4155550123'), R: new BSONRegExp('carol@example\\.org', 'i') } },
  { $facet: { 'Dana Whitfield': [{ $match: { Email: { $eq: 'erin@lab.org' } } }] } },
  { $unionWith: { coll: 'heidi@x.io', pipeline: [{ $match: { FirstName: 'ivan petrov' } }] } },
  { $out: 'judy@corp.com' },
  { '$grace.hopper': { x: 1 } },
  { $sort: { Email: 1 } },
  { $limit: 10 },
];

function scrubView(pipeline: unknown[], viewOn = 'pmInvestigator'): { text: string; pipeline: unknown[]; viewOn: unknown } {
  const anonymizer = createAnonymizer(RULES, TEST_KEY);
  const metadata = buildCollectionMetadata({ collectionName: 'admins', type: 'view', options: { viewOn, pipeline }, indexes: [] });
  const text = scrubCollectionMetadata(metadata, anonymizer.forCollection('admins')!, createTransformContext(TEST_KEY), 'syrftest.admins', {
    isNamedPath: () => true,
    isTransformedPath: (collection, path) => collection === 'pmInvestigator' && ['Email', 'FirstName'].includes(path),
    view: viewScopeOf(RULES, anonymizer),
  });
  const options = parseCollectionMetadata(text).options as { pipeline: unknown[]; viewOn: unknown };
  return { text, pipeline: options.pipeline, viewOn: options.viewOn };
}

function leaked(text: string): string[] {
  const haystacks = [text.toLowerCase(), Buffer.from(text.replace(/[\s\S]*?"base64":"([^"]*)"[\s\S]*?/g, '$1'), 'base64').toString('latin1').toLowerCase()];
  const base64 = [...text.matchAll(/"base64"\s*:\s*"([^"]*)"/g)].map((m) => Buffer.from(m[1]!, 'base64').toString('latin1').toLowerCase());
  return PII.filter((value) => [...haystacks, ...base64].some((h) => h.includes(value.toLowerCase()) || h.includes(value.toLowerCase().replace(/\./g, '\\\\.'))));
}

describe('view pipelines in anonymized metadata', () => {
  it('carry no original literal, key, name or number from any position', () => {
    const { text } = scrubView(PIPELINE);
    expect(leaked(text)).toEqual([]);
  });

  it('keep their structure: named fields and collections, operators, references, small numbers; compared values go through the rules', () => {
    const { pipeline, viewOn } = scrubView(PIPELINE);
    expect(viewOn).toBe('pmInvestigator');
    const first = pipeline[0] as { $match: { $and: [{ Email: string }, unknown] } };
    // The same pseudonym hash_email gives the documents, so the view still matches.
    const expected = createAnonymizer(RULES, TEST_KEY).forCollection('pmInvestigator')!;
    const doc = { Email: 'alice.smith@uni.ac.uk' };
    expected.apply(doc);
    expect(first.$match.$and[0].Email).toBe(doc.Email);
    const lookup = (pipeline[3] as { $lookup: { from: string; pipeline: { $match: { OwnerEmail: { $in: string[] } } }[] } }).$lookup;
    expect(lookup.from).toMatch(/^f[0-9a-f]{16}$/);
    expect(lookup.pipeline[0]!.$match.OwnerEmail.$in[0]).toMatch(/^masked-|@anonymized\.syrf\.local$/);
    expect(pipeline.map((stage) => Object.keys(stage as object)[0])).toEqual(['$match', '$match', '$match', '$lookup', '$project', '$facet', '$unionWith', '$sort', '$limit']);
    expect(JSON.stringify(pipeline.at(-1))).toBe(JSON.stringify({ $limit: 10 }));
    expect(JSON.stringify(pipeline.at(-2))).toBe(JSON.stringify({ $sort: { Email: 1 } }));
  });

  it('a view on a collection the rules do not name keeps no name of it', () => {
    const { viewOn, text } = scrubView([{ $match: { Email: 'x' } }], 'alice.smith@uni.ac.uk');
    expect(viewOn).toMatch(/^f[0-9a-f]{16}$/);
    expect(leaked(text)).toEqual([]);
  });
});

describe('partial filter expressions', () => {
  it('an operator no scrubber places leaves the index out instead of copying its key or operand', () => {
    const anonymizer = createAnonymizer(RULES, TEST_KEY);
    const metadata = buildCollectionMetadata({
      collectionName: 'pmInvestigator',
      options: {},
      indexes: [
        { v: 2, key: { _id: 1 }, name: '_id_' },
        { v: 2, key: { Email: 1 }, name: 'a', partialFilterExpression: { Email: { $eq: 'x@y.org', 'alice.smith@uni.ac.uk': 1 } } },
        { v: 2, key: { Status: 1 }, name: 'b', partialFilterExpression: { Status: { $not: { $eq: 'Bob Jones' } } } },
        { v: 2, key: { Email: 1 }, name: 'c', partialFilterExpression: { $and: [{ Email: { $in: ['carol@example.org'] } }, { Status: { $exists: true } }] } },
      ],
    });
    const text = scrubCollectionMetadata(metadata, anonymizer.forCollection('pmInvestigator')!, createTransformContext(TEST_KEY), 'syrftest.pmInvestigator', {
      isNamedPath: (path) => ['Email', 'Status'].includes(path),
      isTransformedPath: (_collection, path) => path === 'Email',
    });
    expect(leaked(text)).toEqual([]);
    const indexes = parseCollectionMetadata(text).indexes;
    expect(indexes.map((i) => i.name)).toEqual(['_id_', 'Email_1']);
    expect(JSON.stringify(indexes[1]!.partialFilterExpression)).toMatch(/anonymized\.syrf\.local/);
  });
});

describe('collection metadata type', () => {
  it('is one of the types MongoDB knows, never text from the input', () => {
    const anonymizer = createAnonymizer(RULES, TEST_KEY);
    const metadata = buildCollectionMetadata({ collectionName: 'pmInvestigator', type: 'alice.smith@uni.ac.uk', indexes: [] });
    const text = scrubCollectionMetadata(metadata, anonymizer.forCollection('pmInvestigator')!, createTransformContext(TEST_KEY), 'syrftest.pmInvestigator', { isNamedPath: () => true });
    expect(leaked(text)).toEqual([]);
    expect(parseCollectionMetadata(text).type).toBe('collection');
  });
});

describe('literals at kept paths (red team 2, F18)', () => {
  it('a partial filter or view value at a path the rules keep is masked whole, even when scrubbing changed part of it', () => {
    const anonymizer = createAnonymizer(RULES, TEST_KEY);
    const isTransformedPath = (collection: string, path: string) => collection === 'pmInvestigator' && ['Email', 'FirstName'].includes(path);
    const metadata = buildCollectionMetadata({
      collectionName: 'pmInvestigator',
      options: {},
      indexes: [
        { v: 2, key: { _id: 1 }, name: '_id_' },
        { v: 2, key: { Status: 1 }, name: 'a', partialFilterExpression: { Status: { $eq: 'Zqpk1 Doe <zqpk1@uni.ac.uk>' } } },
        { v: 2, key: { Status: 1, Email: 1 }, name: 'b', partialFilterExpression: { Status: { $in: ['Zqpk2 Doe', 'x'] }, Email: 'zqpk3@uni.ac.uk' } },
      ],
    });
    const text = scrubCollectionMetadata(metadata, anonymizer.forCollection('pmInvestigator')!, createTransformContext(TEST_KEY), 'syrftest.pmInvestigator', {
      isNamedPath: (path) => ['Email', 'Status'].includes(path),
      isTransformedPath,
    });
    expect(text).not.toMatch(/zqpk/i);
    const indexes = parseCollectionMetadata(text).indexes;
    expect(JSON.stringify(indexes[2]!.partialFilterExpression)).toMatch(/"Email":"user-[0-9a-f]+@anonymized\.syrf\.local"/);

    const view = buildCollectionMetadata({ collectionName: 'admins', type: 'view', options: { viewOn: 'pmInvestigator', pipeline: [{ $match: { Status: 'Zqpk4 Doe <zqpk4@uni.ac.uk>' } }] }, indexes: [] });
    const viewText = scrubCollectionMetadata(view, anonymizer.forCollection('admins')!, createTransformContext(TEST_KEY), 'syrftest.admins', {
      isNamedPath: () => true,
      isTransformedPath,
      view: viewScopeOf(RULES, anonymizer),
    });
    expect(viewText).not.toMatch(/zqpk/i);
  });
});

describe('metadata that cannot be parsed (red team 2, F14)', () => {
  it('the error does not quote the offending value', () => {
    const bad = '{"options":{"x":{"$numberDecimal":"zqerr@uni.ac.uk"}},"indexes":[],"collectionName":"c"}';
    expect(() => parseCollectionMetadata(bad)).toThrow(/not valid Extended JSON/);
    try {
      parseCollectionMetadata(bad);
    } catch (error) {
      expect(String((error as Error).message)).not.toMatch(/zqerr/);
    }
  });
});
