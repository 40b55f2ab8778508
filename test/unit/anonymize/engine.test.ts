import { BSON, BSONRegExp, BSONSymbol, Binary, Code, Decimal128, Double, Int32, Long, MaxKey, MinKey, ObjectId, Timestamp } from 'bson';
import { describe, expect, it } from 'vitest';
import { anonymizeBytes, createAnonymizer, decodeFields } from '../../../runtime/anonymize/engine.js';
import { TEST_KEY, bson, decode, rules } from './helpers.js';

function anonymize(yaml: string, collection: string, doc: Record<string, unknown>) {
  const anonymizer = createAnonymizer(rules(yaml), TEST_KEY).forCollection(collection)!;
  return decode(anonymizeBytes(bson(doc), anonymizer));
}

const EMAIL = /@anonymized\.syrf\.local$/;

describe('rule paths', () => {
  it('reaches dot paths, arrays of subdocuments, arrays of strings and nested arrays', () => {
    const yaml = `
rules:
  c:
    fields:
      Contact.Email: hash_email
      Members[].Email: hash_email
      Aliases[]: { transform: redact, value: "?" }
      Teams.Members.Name: fake_name
`;
    const out = anonymize(yaml, 'c', {
      Contact: { Email: 'a@x.org', Room: '101' },
      Members: [{ Email: 'b@x.org' }, { Email: 'c@x.org', Role: 'admin' }, { Role: 'none' }],
      Aliases: ['Bee', 'Cee'],
      Teams: [{ Members: [{ Name: 'Dee Dee' }] }],
    });
    expect(out.Contact.Email).toMatch(EMAIL);
    // Allow-list: fields no rule names are masked, not passed (this test used to expect '101' and 'admin').
    // Unnamed siblings of named fields: their keys are pseudonyms too (they used to pass).
    expect(Object.keys(out.Contact)).toEqual(['Email', expect.stringMatching(/^key-[0-9a-f]{24}$/)]);
    expect(Object.values(out.Contact)[1]).toMatch(/^masked-/);
    expect(out.Members[0].Email).toMatch(EMAIL);
    expect(Object.values(out.Members[1])[1]).toMatch(/^masked-/);
    expect(out.Members[1].Email).toMatch(EMAIL);
    expect(Object.keys(out.Members[2])).toEqual([expect.stringMatching(/^key-[0-9a-f]{24}$/)]);
    expect(out.Aliases).toEqual(['?', '?']);
    expect(out.Teams[0].Members[0].Name).not.toBe('Dee Dee');
  });

  it('transforms a scalar found where the rules expect a subdocument', () => {
    const out = anonymize('rules: { c: { fields: { Contact.Email: hash_email } } }', 'c', { Contact: 'jane@example.org' });
    expect(out.Contact).toMatch(EMAIL);
  });

  it('leaves absent and null fields alone and does not create fields', () => {
    const out = anonymize('rules: { c: { fields: { Email: hash_email, Phone: redact } } }', 'c', { Email: null, Other: 1 });
    // `Other` is masked by the allow-list default (it used to pass as 1).
    expect(out).toEqual({ Email: null, Other: new Int32(0) });
  });

  it('removes fields and array elements with remove', () => {
    const out = anonymize(
      ['rules:', '  c:', '    fields:', '      Secret: remove', '      Tokens[]: remove', '      Keep: { transform: keep, reason: a counter }'].join('\n'),
      'c',
      { Secret: 's', Tokens: ['a', 'b'], Keep: 1 },
    );
    expect(out).toEqual({ Tokens: [], Keep: new Int32(1) });
  });
});

describe('defaults', () => {
  it('privacy_by_default masks every field no rule names, gives UUID ids keyed pseudonyms, and keep covers only the named path', () => {
    const id = new Binary(Buffer.alloc(16, 1), 3);
    const yaml = `
rules:
  c:
    privacy_by_default: true
    fields:
      Email: hash_email
      Country: { transform: keep, reason: "coarse, not identifying" }
      Contact: { transform: keep, reason: office block }
      Contact.Phone: redact
`;
    const out = anonymize(yaml, 'c', {
      _id: id,
      Email: 'a@x.org',
      Bio: 'I live at 1 Main St',
      Country: 'UK',
      Contact: { Phone: '+44 131 650 1000', Building: 'Chancellors' },
      Profile: { Nickname: 'JJ', _id: 'keep-me' },
    });
    // An unnamed UUID _id gets a keyed 16-byte pseudonym (F11): only `keep` publishes ids as they are.
    expect(out._id.sub_type).toBe(3);
    expect(out._id.buffer.length).toBe(16);
    expect(out._id.buffer).not.toEqual(id.buffer);
    expect(out.Email).toMatch(EMAIL);
    expect(out.Bio).toMatch(/^masked-/);
    expect(out.Country).toBe('UK');
    // `keep` on Contact keeps Contact itself, not its unnamed children (it used to pass Building through).
    expect(out.Contact.Phone).toBe('[redacted]');
    expect(Object.keys(out.Contact)[1]).toMatch(/^key-[0-9a-f]{24}$/);
    expect(Object.values(out.Contact)[1]).toMatch(/^masked-/);
    // Profile is a path no rule names: its keys are data, pseudonymized, except ids (they used to stay).
    expect(Object.keys(out.Profile)).toEqual([expect.stringMatching(/^key-[0-9a-f]{24}$/), '_id']);
    expect(Object.values(out.Profile)[0]).toMatch(/^masked-/);
    // A string id gets a keyed pseudonym (unique, unlinkable), not a pass.
    expect(out.Profile._id).toMatch(/^masked-[0-9a-f]{24}$/);
  });

  it('a default transform applies to unnamed fields, including below partially named subdocuments', () => {
    const out = anonymize('rules: { c: { default: redact, fields: { Contact.Email: hash_email } } }', 'c', {
      Contact: { Email: 'a@x.org', Phone: '0131 650 1000' },
      Notes: 'call Jane',
    });
    expect(out.Contact.Email).toMatch(EMAIL);
    expect(Object.keys(out.Contact)[1]).toMatch(/^key-[0-9a-f]{24}$/);
    expect(Object.values(out.Contact)[1]).toBe('[redacted]');
    expect(out.Notes).toBe('[redacted]');
  });
});

describe('byte handling', () => {
  it('returns the same Buffer when nothing changed and keeps BSON types of untouched fields', () => {
    const keep = (name: string) => `${name}: { transform: keep, reason: not personal }`;
    const anonymizer = createAnonymizer(rules(`rules: { c: { fields: { Email: hash_email, ${keep('Name')}, ${keep('Count')}, ${keep('Ratio')} } } }`), TEST_KEY).forCollection('c')!;
    const untouched = bson({ Name: 'x', Count: new Int32(3) });
    expect(anonymizeBytes(untouched, anonymizer)).toBe(untouched);
    const out = decode(anonymizeBytes(bson({ Email: 'a@x.org', Count: new Int32(3), Ratio: new Double(1) }), anonymizer));
    expect(out.Count).toBeInstanceOf(Int32);
    expect(out.Ratio._bsontype).toBe('Double');
  });

  it('has no anonymizer for collections without rules', () => {
    expect(createAnonymizer(rules('rules: { c: { fields: { Email: hash_email } } }'), TEST_KEY).forCollection('other')).toBeNull();
  });
});

describe('decodeFields', () => {
  const everyType = {
    _id: new Binary(Buffer.alloc(16, 7), Binary.SUBTYPE_UUID_OLD),
    double: new Double(1.5),
    string: 'naïve ✓',
    document: { a: { b: [1, 2] } },
    array: [{ x: 1 }, 'y'],
    binary: new Binary(Buffer.from('bytes'), 0),
    undefinedValue: undefined,
    objectId: new ObjectId('0123456789abcdef01234567'),
    bool: true,
    date: new Date(1_700_000_000_000),
    nullValue: null,
    regex: new BSONRegExp('^a.c$', 'i'),
    emptyRegex: new BSONRegExp('', ''),
    code: new Code('function () {}'),
    symbol: new BSONSymbol('sym'),
    codeWithScope: new Code('x + 1', { x: 1 }),
    int32: new Int32(42),
    timestamp: new Timestamp({ t: 1, i: 2 }),
    int64: Long.fromString('9007199254740993'),
    decimal: Decimal128.fromString('1.25'),
    minKey: new MinKey(),
    maxKey: new MaxKey(),
    ProjectId: new Binary(Buffer.alloc(16, 9), Binary.SUBTYPE_UUID_OLD),
  };
  const bytes = Buffer.from(BSON.serialize(everyType, { ignoreUndefined: false }));
  const names = (...list: string[]) => list.map((name) => Buffer.from(name, 'utf8'));
  const reencoded = (doc: object) => Buffer.from(BSON.serialize(doc, { ignoreUndefined: false })).toString('hex');

  it('decodes each named top-level field exactly as a full decode does, whatever the types around it', () => {
    const full = decode(bytes);
    for (const name of Object.keys(everyType)) {
      const picked = decodeFields(bytes, names(name, '_id'));
      expect(reencoded(picked), name).toBe(reencoded(name === '_id' ? { _id: full._id } : { _id: full._id, [name]: full[name] }));
    }
  });

  it('gives an empty document when no named field is present', () => {
    expect(decodeFields(bytes, names('Missing'))).toEqual({});
  });

  it('decodes everything when the top level does not parse', () => {
    const damaged = Buffer.from(bytes);
    // The first element's type byte becomes one BSON does not define.
    damaged[4] = 0x42;
    expect(() => decodeFields(damaged, names('_id'))).toThrow();
    const doc = bson({ _id: 1, a: 'x' });
    const wrongLength = Buffer.concat([doc, Buffer.from([0])]);
    expect(() => decodeFields(wrongLength, names('_id'))).toThrow();
  });
});
