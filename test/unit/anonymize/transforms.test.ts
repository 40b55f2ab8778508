import { Binary, Double, Int32, Long, ObjectId } from 'bson';
import { describe, expect, it } from 'vitest';
import { compileTransform } from '../../../runtime/anonymize/engine.js';
import { createTransformContext } from '../../../runtime/anonymize/key.js';
import { transformNames } from '../../../runtime/anonymize/transforms/registry.js';
import { REMOVE } from '../../../runtime/anonymize/transforms/types.js';
import { OTHER_KEY, TEST_KEY } from './helpers.js';

const VALID_ANON_EMAIL = /^[a-z0-9-]+@anonymized\.syrf\.local$/;

function make(transform: string, params: Record<string, unknown> = {}, key = TEST_KEY) {
  return compileTransform({ transform, params }, createTransformContext(key));
}

const KEYED = ['hash_email', 'hash', 'sequential', 'sequential_suffix', 'fake_name', 'mask'];

describe('keyed transforms', () => {
  it.each(KEYED)('%s is stable for one key and different under another key', (name) => {
    const value = 'Jane.Doe@Example.org';
    expect(make(name)(value)).toBe(make(name)(value));
    if (name !== 'fake_name') expect(make(name)(value)).not.toBe(make(name, {}, OTHER_KEY)(value));
    expect(make(name)(value)).not.toContain('Jane');
  });

  it('fake_name changes with the key for most values', () => {
    const values = Array.from({ length: 50 }, (_, i) => `person-${i}`);
    const differing = values.filter((v) => make('fake_name')(v) !== make('fake_name', {}, OTHER_KEY)(v));
    expect(differing.length).toBeGreaterThan(40);
  });

  it('is not a plain hash: the output is not SHA-256 of the input', async () => {
    const { createHash } = await import('node:crypto');
    const plain = createHash('sha256').update('jane@example.org').digest('hex');
    expect(String(make('hash', { length: 64 })('jane@example.org'))).not.toBe(plain);
  });

  it.each(KEYED)('%s treats the same value the same in any collection or field (no context in the HMAC)', (name) => {
    // One compiled instance per rule, as two collections' rules would have.
    expect(make(name)('shared@example.org')).toBe(make(name)('shared@example.org'));
  });
});

describe('hash_email', () => {
  const hashEmail = make('hash_email');

  it('yields valid addresses under anonymized.syrf.local', () => {
    expect(hashEmail('jane@example.org')).toMatch(VALID_ANON_EMAIL);
  });

  it('keeps distinct addresses distinct (unique index survives)', () => {
    const inputs = Array.from({ length: 20000 }, (_, i) => `user${i}@example.org`);
    expect(new Set(inputs.map((v) => hashEmail(v))).size).toBe(inputs.length);
  });

  it('folds case by default, so one person gets one pseudonym across collections; case_sensitive keeps case', () => {
    // The old default kept case: Jane@Example.org and jane@example.org became two pseudonyms of one person.
    expect(hashEmail('Jane@Example.org')).toBe(hashEmail('jane@example.org'));
    const exact = make('hash_email', { case_sensitive: true });
    expect(exact('Jane@Example.org')).not.toBe(exact('jane@example.org'));
    expect(make('hash_email', { case_insensitive: true })('Jane@Example.org')).toBe(hashEmail('jane@example.org'));
  });

  it.each([
    ['missing @', 'not-an-email'],
    ['two @', 'a@b@c.org'],
    ['spaces', ' jane @ example.org '],
  ])('turns malformed input (%s) into a valid pseudonym address, never the original', (_what, input) => {
    const out = hashEmail(input);
    expect(out).toMatch(VALID_ANON_EMAIL);
    expect(out).not.toContain(input.trim());
  });

  it('never crashes on non-strings and never passes them through', () => {
    expect(hashEmail(null)).toBeNull();
    expect(hashEmail(true)).toBe(true);
    expect(hashEmail(new Int32(441316501000))).toMatch(VALID_ANON_EMAIL);
    expect(hashEmail(4413165010)).toMatch(VALID_ANON_EMAIL);
    expect(hashEmail(new Date(0))).toMatch(VALID_ANON_EMAIL);
    const array = hashEmail(['a@x.org', 'b@x.org', null]) as unknown[];
    expect(array).toHaveLength(3);
    expect(array[0]).toMatch(VALID_ANON_EMAIL);
    expect(array[2]).toBeNull();
    const nested = hashEmail({ Work: 'a@x.org', Home: ['b@x.org'] }) as { Work: string; Home: string[] };
    expect(nested.Work).toMatch(VALID_ANON_EMAIL);
    expect(nested.Home[0]).toMatch(VALID_ANON_EMAIL);
  });
});

describe('hash', () => {
  it('gives 128 bits by default, with an optional prefix, and keeps Auth0 ids unique', () => {
    const hash = make('hash', { prefix: 'anon|' });
    const out = String(hash('auth0|5f3c9e8a1b2c3d4e5f6a7b8c'));
    expect(out).toMatch(/^anon\|[0-9a-f]{32}$/);
    const ids = Array.from({ length: 20000 }, (_, i) => `auth0|${i.toString(16).padStart(24, '0')}`);
    expect(new Set(ids.map((id) => hash(id))).size).toBe(ids.length);
  });

  it('hashes the bytes of binary and ObjectId values instead of passing them on', () => {
    const hash = make('hash');
    const uuid = new Binary(Buffer.from('00112233445566778899aabbccddeeff', 'hex'), 3);
    expect(hash(uuid)).toMatch(/^[0-9a-f]{32}$/);
    expect(hash(new ObjectId('65a000000000000000000001'))).toMatch(/^[0-9a-f]{32}$/);
    expect(hash(Long.fromString('44131650100'))).toBe(hash('44131650100'));
  });
});

describe('sequential and sequential_suffix', () => {
  it('give readable labels derived from the value, not from document order', () => {
    const names = ['John', 'Ana', 'Wei', 'John'];
    const forward = names.map((n) => make('sequential')(n));
    const backward = [...names].reverse().map((n) => make('sequential')(n)).reverse();
    expect(forward).toEqual(backward);
    expect(forward[0]).toBe(forward[3]);
    expect(forward[0]).toMatch(/^User \d{15}$/);
    expect(make('sequential_suffix')('Smith')).toMatch(/^\d{15}$/);
    expect(make('sequential', { prefix: 'Reviewer-', digits: 16 })('John')).toMatch(/^Reviewer-\d{16}$/);
  });

  it('refuse widths that cannot keep 10^7 values apart (digits: 4 used to validate)', () => {
    for (const name of ['sequential', 'sequential_suffix']) {
      expect(() => make(name, { digits: 4 })).toThrow();
      expect(() => make(name, { digits: 14 })).toThrow();
    }
  });

  it('do not collide with the default width', () => {
    const labels = Array.from({ length: 20000 }, (_, i) => make('sequential')(`name-${i}`));
    expect(new Set(labels).size).toBe(20000);
  });
});

describe('fake_name', () => {
  it('gives readable names', () => {
    expect(make('fake_name')('Jane Doe')).toMatch(/^[A-Z][a-z]+ [A-Z][a-z]+$/);
    expect(make('fake_name', { part: 'first' })('Jane')).toMatch(/^[A-Z][a-z]+$/);
  });
});

describe('value-replacing transforms', () => {
  it('redact, null, constant and remove replace any type; keep keeps', () => {
    const values = ['secret', new Double(1.5), ['a', 'b'], { nested: 'x' }];
    for (const v of values) {
      expect(make('redact')(v)).toBe('[redacted]');
      expect(make('redact', { value: 'X' })(v)).toBe('X');
      expect(make('null')(v)).toBeNull();
      expect(make('constant', { value: 7 })(v)).toBe(7);
      expect(make('remove')(v)).toBe(REMOVE);
      expect(make('keep', { reason: 'public' })(v)).toBe(v);
      expect(make('keep_subtree', { reason: 'public' })(v)).toBe(v);
    }
  });
});

describe('mask', () => {
  it('keeps types and ids but not content', () => {
    const mask = make('mask');
    const id = new Binary(Buffer.alloc(16, 7), 3);
    const masked = mask({ Name: 'Jane', Age: new Int32(42), Born: new Date('1980-01-01'), Ref: id, Active: true, Tags: ['x'] }) as Record<string, unknown>;
    // The keys of a masked document are data no rule names: keyed pseudonyms, in the same order.
    const keys = Object.keys(masked);
    expect(keys.every((k) => /^key-[0-9a-f]{24}$/.test(k))).toBe(true);
    const out = Object.fromEntries(['Name', 'Age', 'Born', 'Ref', 'Active', 'Tags'].map((name, i) => [name, masked[keys[i]!]]));
    expect(out.Name).toMatch(/^masked-[0-9a-f]{16}$/);
    expect(out.Age).toEqual(new Int32(0));
    expect(out.Born).toEqual(new Date(0));
    expect((out.Ref as Binary).sub_type).toBe(3); // a UUID: a keyed pseudonym of the same type and length
    expect((out.Ref as Binary).buffer.length).toBe(16);
    expect((out.Ref as Binary).buffer).not.toEqual(id.buffer);
    expect(out.Active).toBe(true);
    expect((out.Tags as string[])[0]).toMatch(/^masked-/);
  });
});

it('every registered transform is covered by this file', () => {
  expect(transformNames().sort()).toEqual(
    ['constant', 'fake_name', 'hash', 'hash_email', 'keep', 'keep_subtree', 'mask', 'null', 'redact', 'remove', 'sequential', 'sequential_suffix'].sort(),
  );
});
