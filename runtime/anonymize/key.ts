/**
 * The anonymization key. Pseudonyms are HMAC-SHA256 under this key: without
 * it, nobody can test candidate emails or names against the output (a plain
 * hash of an email is reversed by hashing a list of addresses). It lives only
 * where production data is read; previews never need it.
 */
import { createHmac, createSecretKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ExitCode, UserError } from '../errors.js';
import type { TransformContext } from './transforms/types.js';

export const KEY_ENV_VAR = 'SYRF_ANONYMIZATION_KEY';
/** The shortest key that can carry MIN_KEY_BITS: 43 base64 characters (`openssl rand -base64 32`). */
export const MIN_KEY_LENGTH = 32;
/** Pseudonyms are only as strong as the key: it must be as hard to guess as the HMAC-SHA256 output. */
export const MIN_KEY_BITS = 256;

const KEY_HINT = `set ${KEY_ENV_VAR} or pass --key-file PATH (a mounted Secret) holding a random key of at least ${MIN_KEY_BITS} bits, generated with \`openssl rand -base64 48\` (64 characters)`;

export async function loadAnonymizationKey(opts: { keyFile?: string; env?: NodeJS.ProcessEnv }): Promise<Buffer> {
  const env = opts.env ?? process.env;
  let text: string;
  let source: string;
  if (opts.keyFile !== undefined) {
    source = `key file ${opts.keyFile}`;
    try {
      text = await readFile(opts.keyFile, 'utf8');
    } catch (error) {
      throw new UserError(`cannot read the anonymization ${source}: ${(error as Error).message}`, {
        hint: KEY_HINT,
        exitCode: ExitCode.refused,
        cause: error,
      });
    }
  } else {
    source = `environment variable ${KEY_ENV_VAR}`;
    const value = env[KEY_ENV_VAR];
    if (value === undefined || value.trim() === '') {
      throw new UserError(`no anonymization key: ${KEY_ENV_VAR} is not set and no --key-file was given; refusing to produce pseudonyms without a secret key`, {
        hint: KEY_HINT,
        exitCode: ExitCode.refused,
      });
    }
    text = value;
  }
  // Secrets mounted from files usually end with a newline; it is not part of the key.
  const key = text.replace(/[\r\n]+$/, '');
  const weakness = keyWeakness(key);
  if (weakness) {
    throw new UserError(`the anonymization key from the ${source} is too weak: ${weakness}`, { hint: KEY_HINT, exitCode: ExitCode.refused });
  }
  return Buffer.from(key, 'utf8');
}

/**
 * Why `key` cannot carry MIN_KEY_BITS of entropy, or null. The estimate is
 * length × log2(size of the character classes it uses) — what a random key
 * over that alphabet would carry — and keys that are visibly not random
 * (few distinct characters, one character dominating) are refused whatever
 * their length. Never names a character of the key.
 */
export function keyWeakness(key: string): string | null {
  const characters = [...key];
  if (characters.length < MIN_KEY_LENGTH) return `${characters.length} characters, need at least ${MIN_KEY_LENGTH}`;
  const counts = new Map<string, number>();
  for (const c of characters) counts.set(c, (counts.get(c) ?? 0) + 1);
  if (counts.size < 10) return `it uses only ${counts.size} distinct characters; a random key uses dozens`;
  let shannon = 0;
  for (const n of counts.values()) shannon -= (n / characters.length) * Math.log2(n / characters.length);
  if (shannon < 3) return 'its characters repeat far more than in a random key';
  let alphabet = 0;
  if (/[a-z]/.test(key)) alphabet += 26;
  if (/[A-Z]/.test(key)) alphabet += 26;
  if (/[0-9]/.test(key)) alphabet += 10;
  if (/[^a-zA-Z0-9]/.test(key)) alphabet += 32;
  const bits = Math.floor(characters.length * Math.log2(alphabet));
  if (bits < MIN_KEY_BITS) return `${characters.length} characters from a ${alphabet}-symbol alphabet carry at most ${bits} bits, need ${MIN_KEY_BITS}`;
  return null;
}

/**
 * Names and emails repeat across documents and collections, so recent MACs
 * are remembered. Bounded: at most MEMO_ENTRIES entries of inputs up to
 * MEMO_MAX_INPUT characters (about 3 MiB at worst), oldest dropped first.
 */
const MEMO_ENTRIES = 8192;
const MEMO_MAX_INPUT = 128;

export function createTransformContext(key: Buffer): TransformContext {
  const separator = Buffer.from([0]);
  const secret = createSecretKey(key);
  const compute = (domain: string, input: string) => createHmac('sha256', secret).update(domain, 'utf8').update(separator).update(input, 'utf8').digest();
  const memo = new Map<string, Buffer>();
  return {
    mac(domain, input) {
      if (input.length > MEMO_MAX_INPUT) return compute(domain, input);
      // Domains are fixed transform names without NUL, so this key is unambiguous.
      const memoKey = `${domain}\0${input}`;
      let digest = memo.get(memoKey);
      if (digest === undefined) {
        digest = compute(domain, input);
        if (memo.size >= MEMO_ENTRIES) memo.delete(memo.keys().next().value!);
        memo.set(memoKey, digest);
      }
      return digest;
    },
  };
}
