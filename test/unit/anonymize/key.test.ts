import { createHmac } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExitCode, UserError } from '../../../runtime/errors.js';
import { createTransformContext, loadAnonymizationKey } from '../../../runtime/anonymize/key.js';

// As `openssl rand -base64 48` prints: 64 characters, 384 bits.
const GOOD = 'q3V9xY1bZ7mK0pT4rW8sN2dF6hJ5lC3gA9eU1iO7yR4tB0nM8kX2cV6zQ5wS1aD3';

describe('loadAnonymizationKey', () => {
  it('reads SYRF_ANONYMIZATION_KEY', async () => {
    expect((await loadAnonymizationKey({ env: { SYRF_ANONYMIZATION_KEY: GOOD } })).toString()).toBe(GOOD);
  });

  it('prefers --key-file and ignores its trailing newline', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'syrf-key-'));
    const file = join(dir, 'key');
    writeFileSync(file, GOOD + '\n');
    const key = await loadAnonymizationKey({ keyFile: file, env: { SYRF_ANONYMIZATION_KEY: 'x'.repeat(40) } });
    expect(key.toString()).toBe(GOOD);
  });

  it.each([
    ['absent', {}],
    ['empty', { SYRF_ANONYMIZATION_KEY: '' }],
    ['too short', { SYRF_ANONYMIZATION_KEY: 'short-key' }],
  ])('refuses when the key is %s', async (_what, env) => {
    const error = await loadAnonymizationKey({ env }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).exitCode).toBe(ExitCode.refused);
    expect((error as UserError).hint).toContain('SYRF_ANONYMIZATION_KEY');
  });

  it.each([
    ['32 × "a"', 'a'.repeat(32)],
    ['64 × "a"', 'a'.repeat(64)],
    ['two characters repeated', 'ab'.repeat(40)],
    ['one character dominating', 'k'.repeat(40) + 'Q9v7s2LmX0pZ4tR8'],
    ['a short alphabet (digits only)', '31415926535897932384626433832795028841971693993751'],
    ['too few characters for 256 bits', 'q3V9xY1bZ7mK0pT4rW8sN2dF6hJ5lC3gA9'],
    // Red team: text-like keys that the length × alphabet estimate accepted.
    ['a digit sequence (valid hex)', '0123456789'.repeat(8)],
    ['the alphabet in order (valid base64)', 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'],
    ['a passphrase of dictionary words', 'correct horse battery staple correct horse battery staple!'],
    ['a descriptive sentence', 'syrf-anonymization-key-2026-production-do-not-share!'],
    ['32 repeated bytes in hex', 'ab'.repeat(32) + '01'.repeat(32)],
  ])('refuses a key without 256 bits of entropy: %s, and says how to make one without echoing it', async (_what, weak) => {
    const error = await loadAnonymizationKey({ env: { SYRF_ANONYMIZATION_KEY: weak } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).exitCode).toBe(ExitCode.refused);
    expect((error as UserError).message).toContain('too weak');
    expect((error as UserError).hint).toContain('openssl rand -base64 48');
    expect(`${(error as UserError).message} ${(error as UserError).hint}`).not.toContain(weak.slice(0, 8));
  });

  it('accepts 64 hex digits (openssl rand -hex 32) and 44 base64 characters (openssl rand -base64 32)', async () => {
    for (const key of ['9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08', 'n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=']) {
      expect((await loadAnonymizationKey({ env: { SYRF_ANONYMIZATION_KEY: key } })).toString()).toBe(key);
    }
  });

  it('refuses a missing key file, naming it', async () => {
    const error = await loadAnonymizationKey({ keyFile: '/nonexistent/key', env: {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).message).toContain('/nonexistent/key');
    expect((error as UserError).exitCode).toBe(ExitCode.refused);
  });
});

describe('createTransformContext', () => {
  const key = Buffer.from(GOOD);
  const plain = (domain: string, input: string) => createHmac('sha256', key).update(`${domain}\0${input}`, 'utf8').digest('hex');

  it('gives HMAC(key, domain ‖ 0 ‖ input) for repeated, long and many distinct inputs alike', () => {
    const context = createTransformContext(key);
    const inputs = [
      'ann@example.org',
      'ann@example.org',
      'x'.repeat(5000),
      ...Array.from({ length: 20_000 }, (_, i) => `person${i}@example.org`),
      'ann@example.org', // asked again after many others pushed it out of any memo
    ];
    for (const input of inputs) {
      expect(context.mac('hash_email', input).toString('hex')).toBe(plain('hash_email', input));
    }
  });

  it('keeps domains apart for the same input', () => {
    const context = createTransformContext(key);
    const a = context.mac('hash', 'Smith').toString('hex');
    const b = context.mac('mask', 'Smith').toString('hex');
    expect(a).toBe(plain('hash', 'Smith'));
    expect(b).toBe(plain('mask', 'Smith'));
    expect(a).not.toBe(b);
  });
});
