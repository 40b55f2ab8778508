/**
 * The allow-list guarantees of the engine, each against the leak it closes.
 * Documents are built byte by byte where a JavaScript object cannot express
 * the input (duplicate keys, literal dotted names next to nested ones).
 */
import { BSON, BSONRegExp, BSONSymbol, Binary, Code, DBRef, Decimal128, Double, Int32, Long, ObjectId, Timestamp, type Document } from 'bson';
import { describe, expect, it } from 'vitest';
import { T, encodeString } from '../../../runtime/anonymize/bson-raw.js';
import { UnnamedFieldError, createAnonymizer, decideLeaf } from '../../../runtime/anonymize/engine.js';
import { createTransformContext } from '../../../runtime/anonymize/key.js';
import { pseudonymousEmail } from '../../../runtime/anonymize/transforms/hash-email.js';
import { TEST_KEY, bson, decode, documentOf, element, rules } from './helpers.js';

function run(yaml: string, collection: string, bytes: Buffer): Buffer {
  return createAnonymizer(rules(yaml), TEST_KEY).forCollection(collection)!.anonymize(bytes);
}

const contains = (haystack: Buffer, needle: string) => haystack.includes(Buffer.from(needle, 'utf8'));

describe('duplicate keys (leak 1)', () => {
  it('rewrites a document holding a key twice so that no byte of either original value survives', () => {
    // {Email: "jane@uni.ac.uk", Email: null}: a decoder keeps the last, sees nothing to change, and used to pass the bytes on.
    const bytes = documentOf(element(T.string, 'Email', encodeString('jane@uni.ac.uk')), element(T.null, 'Email', Buffer.alloc(0)));
    const out = run('version: 2\nrules: { c: { fields: { Email: hash_email } } }', 'c', bytes);
    expect(contains(out, 'jane')).toBe(false);
    expect(out.equals(bytes)).toBe(false);
    expect(decode(out)).toEqual({ Email: null });
  });

  it('keeps the last occurrence, transformed by its rule, also below the top level and under keep', () => {
    const inner = documentOf(element(T.string, 'Note', encodeString('call jane@uni.ac.uk')), element(T.string, 'Note', encodeString('second')));
    const bytes = documentOf(element(T.document, 'Profile', inner), element(T.string, 'Name', encodeString('x')), element(T.string, 'Name', encodeString('jane@uni.ac.uk')));
    const out = run('rules: { c: { fields: { Profile.Note: { transform: keep, reason: text }, Name: { transform: keep, reason: label } } } }', 'c', bytes);
    expect(contains(out, 'jane')).toBe(false);
    const doc = decode(out);
    expect(doc.Profile).toEqual({ Note: 'second' });
    expect(doc.Name).toMatch(/^user-[0-9a-f]{20}@anonymized\.syrf\.local$/); // kept, but scrubbed
  });
});

describe('keys that carry data (leak 2)', () => {
  const subscriptions = { Subscriptions: { 'alice@uni.ac.uk': true, 'Bob Smith': new Int32(3) }, _id: new ObjectId() };

  it('keys: hash replaces every key of the map with a keyed pseudonym', () => {
    const out = run('rules: { c: { fields: { Subscriptions: { transform: mask, keys: hash }, _id: { transform: keep, reason: an ObjectId } } } }', 'c', bson(subscriptions));
    expect(contains(out, 'alice')).toBe(false);
    expect(contains(out, 'Bob')).toBe(false);
    const keys = Object.keys(decode(out).Subscriptions as Document);
    expect(keys).toHaveLength(2);
    for (const key of keys) expect(key).toMatch(/^key-[0-9a-f]{24}$/);
  });

  it('under the default and under any transform, keys that look like personal data are masked', () => {
    for (const yaml of ['rules: { c: {} }', 'rules: { c: { fields: { Subscriptions: hash } } }', 'rules: { c: { default: { transform: keep_subtree, reason: prefs } } }']) {
      const out = run(yaml, 'c', bson(subscriptions));
      expect(contains(out, 'alice'), yaml).toBe(false);
      expect(contains(out, 'Bob Smith'), yaml).toBe(false);
    }
  });
});

describe('literal field names with . [ ] $ (leak 3)', () => {
  // {"Contact.Email": "a@x.org", Contact: {Email: "b@x.org"}, "Tags[]": "c@x.org"}
  const bytes = documentOf(
    element(T.string, 'Contact.Email', encodeString('flat@x.org')),
    element(T.document, 'Contact', documentOf(element(T.string, 'Email', encodeString('nested@x.org')))),
    element(T.string, 'Tags[]', encodeString('Tag Person')),
    element(T.string, '$weird', encodeString('dollar@x.org')),
  );

  it('an escaped rule names the literal field only, and a dotted rule the nested one only', () => {
    const out = decode(run('rules: { c: { fields: { "Contact\\\\.Email": hash_email } } }', 'c', bytes));
    expect(out['Contact.Email']).toMatch(/^user-.*@anonymized\.syrf\.local$/);
    // Contact is a path no rule names: its keys are data, pseudonymized (they used to stay).
    expect(Object.keys(out.Contact)).toEqual([expect.stringMatching(/^key-[0-9a-f]{24}$/)]);
    expect(Object.values(out.Contact)[0]).toMatch(/^masked-/); // not confused with the literal name
    const nested = decode(run('rules: { c: { fields: { Contact.Email: hash_email } } }', 'c', bytes));
    expect(nested.Contact.Email).toMatch(/^user-/);
    expect(nested['Contact.Email']).toMatch(/^masked-/);
  });

  it('Tags[] as a rule means the elements of Tags, never a field literally named "Tags[]"; \\[\\] and \\$ name those', () => {
    const out = decode(run('rules: { c: { fields: { "Tags[]": { transform: keep, reason: labels } } } }', 'c', bytes));
    expect(out['Tags[]']).toMatch(/^masked-/);
    const literal = decode(run('rules: { c: { fields: { "Tags\\\\[\\\\]": { transform: keep, reason: labels, scrub: false }, "\\\\$weird": hash_email } } }', 'c', bytes));
    expect(literal['Tags[]']).toBe('Tag Person');
    expect(literal.$weird).toMatch(/^user-/);
  });

  it('rejects unescaped syntax characters in rule paths', () => {
    expect(() => rules('rules: { c: { fields: { "a]b": hash } } }')).toThrow(/not a field path/);
    expect(() => rules('rules: { c: { fields: { "$a": hash } } }')).toThrow(/not a field path/);
  });
});

describe('keep names one path; keep_subtree names a subtree (leak 7)', () => {
  const doc = { Settings: { Theme: 'dark', BackupEmail: 'jane@uni.ac.uk', Phone: '+44 131 650 1000' } };

  it('a child added below a kept parent gets the default', () => {
    const out = decode(run('rules: { c: { fields: { Settings: { transform: keep, reason: UI prefs } } } }', 'c', bson(doc)));
    // Keys a rule does not name are data too (F1): they get keyed pseudonyms, values the default.
    expect(Object.keys(out.Settings).every((k) => /^key-[0-9a-f]{24}$/.test(k))).toBe(true);
    expect(Object.values(out.Settings).every((v) => /^masked-/.test(String(v)))).toBe(true);
  });

  it('keep_subtree keeps every descendant, scrubbing personal data out of strings', () => {
    const out = decode(run('rules: { c: { fields: { Settings: { transform: keep_subtree, reason: UI prefs } } } }', 'c', bson(doc)));
    expect(out.Settings.Theme).toBe('dark');
    expect(out.Settings.BackupEmail).toBe(pseudonymousEmail(createTransformContext(TEST_KEY), 'jane@uni.ac.uk'));
    expect(out.Settings.Phone).toMatch(/^\+\d\d \d{3} \d{3} \d{4}$/);
    expect(out.Settings.Phone).not.toBe(doc.Settings.Phone);
  });

  it('unnamed_fields: refuse names collection path (never a value, never a PII key)', () => {
    const yaml = 'version: 2\nunnamed_fields: refuse\nrules: { c: { fields: { Settings.Theme: { transform: keep, reason: UI theme } } } }';
    const error = (() => {
      try {
        run(yaml, 'c', bson({ Settings: { Theme: 'x', Extra: [{ 'jane@uni.ac.uk': 'secret value' }] } }));
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(error).toBeInstanceOf(UnnamedFieldError);
    // Extra is a key no rule names: refused (and not printed) before its value is reached.
    expect((error as UnnamedFieldError).path).toMatch(/^Settings\.<unnamed key #\d>$/);
  });

  it('unnamed_fields: refuse prints only names the rules contain: a key that is data but looks like nothing is not printed either', () => {
    const yaml = 'version: 2\nunnamed_fields: refuse\nrules: { c: { fields: { Settings.Theme: { transform: keep, reason: UI theme } } } }';
    for (const doc of [{ 'alice.smith@uni.ac.uk': 1 }, { zqjanedoe: { Theme: 'x' } }, { Settings: { Theme: 'x', 'bob jones': 'v' } }]) {
      let error: unknown = null;
      try {
        run(yaml, 'c', bson(doc));
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(UnnamedFieldError);
      const text = `${(error as UnnamedFieldError).path} ${(error as Error).message}`;
      expect(text).not.toMatch(/alice|zqjanedoe|bob/i);
      expect(text).toMatch(/<unnamed key #\d>/);
    }
  });

  it('decideLeaf tells the check what the engine does', () => {
    const r = rules('rules: { c: { fields: { Settings: { transform: keep_subtree, reason: UI prefs }, Settings.Mail: hash_email, Tags: { transform: keep, reason: labels } } } }');
    const entry = r.collections.get('c')!;
    expect(decideLeaf(r, entry, ['Settings', 'New', 'Deep']).kind).toBe('keep_subtree');
    expect(decideLeaf(r, entry, ['Settings', 'Mail']).kind).toBe('transform');
    expect(decideLeaf(r, entry, ['Tags']).kind).toBe('keep');
    expect(decideLeaf(r, entry, ['Tags', 'Child']).kind).toBe('default');
    expect(decideLeaf(r, entry, ['Other']).kind).toBe('default');
  });
});

describe('mask handles every BSON type (leak 4)', () => {
  const secret = 'jane.doe@uni.ac.uk';
  const source = {
    _id: new ObjectId('0123456789abcdef01234567'),
    Uuid: new Binary(Buffer.alloc(16, 7), 4),
    FakeUuid: new Binary(Buffer.from(secret + secret), 4),
    LegacyFake: new Binary(Buffer.from(secret), 3),
    Blob: new Binary(Buffer.from(secret), 0),
    Old: new Binary(Buffer.from(secret), 2),
    Money: Decimal128.fromString('123456.78'),
    Pattern: new BSONRegExp(`^${secret}$`, 'i'),
    Script: new Code(`return "${secret}"`),
    Scoped: new Code('return who', { who: secret }),
    Sym: new BSONSymbol(secret),
    Ref: new DBRef('pmInvestigator', new ObjectId('0123456789abcdef01234568'), undefined, { note: secret }),
    Stamp: new Timestamp({ t: 1_700_000_000, i: 7 }),
    Big: Long.fromString('9223372036854775807'),
    Ratio: new Double(-0),
    When: new Date(1_700_000_000_000),
  };

  it('leaves no original byte of any masked value and keeps every type', () => {
    const input = bson(source);
    const out = run('version: 2\nrules: { c: {} }', 'c', input);
    expect(contains(out, 'jane')).toBe(false);
    expect(out.includes(Buffer.from(secret).toString('hex').slice(0, 12), 0, 'hex')).toBe(false);
    const doc = decode(out);
    // Ids no rule keeps may hold anything: keyed pseudonyms of the same type and length (F11).
    expect(doc._id).toBeInstanceOf(ObjectId);
    expect(doc._id).not.toEqual(source._id);
    expect(doc.Uuid.sub_type).toBe(source.Uuid.sub_type);
    expect(doc.Uuid.buffer.length).toBe(16);
    expect(doc.Uuid.buffer).not.toEqual(source.Uuid.buffer);
    expect(doc.FakeUuid.sub_type).toBe(4);
    expect(doc.FakeUuid.buffer.length).toBe(16);
    expect(doc.LegacyFake.buffer.length).toBe(16);
    expect(doc.Blob.buffer.length).toBe(0);
    expect(doc.Money.toString()).toBe('0');
    expect(doc.Pattern.options).toBe('i');
    expect(doc.Pattern.pattern).toMatch(/^masked-/);
    expect(doc.Script._bsontype).toBe('Code');
    expect(doc.Scoped.scope).toEqual({});
    expect(doc.Sym._bsontype).toBe('BSONSymbol');
    // The rules do not name pmInvestigator, so the $ref may be data: masked (it used to be kept whatever it said).
    expect(doc.Ref.$ref ?? doc.Ref.collection).toMatch(/^masked-/);
    expect(doc.Stamp.toString()).toBe('0');
    expect(doc.Big.toString()).toBe('0');
    expect(doc.When.getTime()).toBe(0);
    // The whole document re-decodes with BSON's own parser.
    expect(() => BSON.deserialize(out)).not.toThrow();
  });
});

describe('free-text scrubbing of kept strings', () => {
  it('replaces emails, phones and profile URLs in a kept abstract by pseudonyms of the same kind; scrub: false opts out', () => {
    const abstract = 'Contact Jane.Doe@Uni.ac.uk or +44 131 650 1000; profile https://www.linkedin.com/in/jane-doe-123 for rodent stroke data.';
    const out = decode(run('rules: { c: { fields: { Abstract: { transform: keep, reason: research content } } } }', 'c', bson({ Abstract: abstract }))).Abstract as string;
    expect(out).not.toMatch(/jane|650 1000|linkedin/i);
    expect(out).toContain(pseudonymousEmail(createTransformContext(TEST_KEY), 'jane.doe@uni.ac.uk'));
    expect(out).toContain('for rodent stroke data.');
    const raw = decode(run('rules: { c: { fields: { Abstract: { transform: keep, reason: vetted, scrub: false } } } }', 'c', bson({ Abstract: abstract }))).Abstract;
    expect(raw).toBe(abstract);
  });

  it('refuses scrub on a transform that does not keep', () => {
    expect(() => rules('rules: { c: { fields: { A: { transform: hash, scrub: true } } } }')).toThrow(/scrub applies to kept strings only/);
  });
});

describe('content the engine cannot parse', () => {
  it('is refused, never passed on: unknown type bytes, lengths that do not fit, runaway nesting', async () => {
    const { UndecodableDocumentError } = await import('../../../runtime/anonymize/engine.js');
    const good = documentOf(element(T.string, 'Note', encodeString('hello')));
    const unknownType = Buffer.from(good);
    unknownType[4] = 0x42;
    const badLength = Buffer.from(good);
    badLength.writeInt32LE(1000, 5 + 'Note'.length + 1);
    let deep = documentOf(element(T.null, 'x', Buffer.alloc(0)));
    for (let i = 0; i < 300; i++) deep = documentOf(element(T.document, 'd', deep));
    const yaml = 'rules: { c: { default: { transform: keep_subtree, reason: anything } } }';
    for (const bytes of [unknownType, badLength, deep, good.subarray(0, good.length - 1)]) {
      expect(() => run(yaml, 'c', bytes)).toThrow(UndecodableDocumentError);
    }
  });
});
