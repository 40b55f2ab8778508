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
 * Why `key` is not random key material, or null. Accepted: hex or base64
 * (base64url) that decodes to at least 32 bytes which look random, or any
 * other string of at least 43 characters whose bytes pass the same entropy
 * estimate. Whatever the encoding, text-like keys are refused: runs of
 * consecutive characters (0123, abcd), mostly words, few distinct
 * characters. Never names a character of the key.
 */
export function keyWeakness(key: string): string | null {
  const characters = [...key];
  if (characters.length < MIN_KEY_LENGTH) return `${characters.length} characters, need at least ${MIN_KEY_LENGTH}`;
  const textLike = textLikeness(key);
  if (textLike) return textLike;
  const uuidProblem = uuidKeyProblem(key);
  if (uuidProblem) return uuidProblem;
  const decoded = decodeKeyMaterial(key);
  if (decoded) {
    if (decoded.length < 32) return `it decodes to ${decoded.length} bytes, need at least 32 random bytes`;
    return randomnessProblem(decoded, 'its decoded bytes') ?? partsProblem(decoded, 'its decoded bytes');
  }
  if (characters.length < 43) return `${characters.length} characters that are neither hex nor base64, need at least 43`;
  const charProblem = randomnessProblem(Buffer.from(key, 'utf8'), 'its characters') ?? partsProblem(Buffer.from(key, 'utf8'), 'its characters');
  if (charProblem) return charProblem;
  let alphabet = 0;
  if (/[a-z]/.test(key)) alphabet += 26;
  if (/[A-Z]/.test(key)) alphabet += 26;
  if (/[0-9]/.test(key)) alphabet += 10;
  if (/[^a-zA-Z0-9]/.test(key)) alphabet += 32;
  const bits = Math.floor(characters.length * Math.log2(alphabet));
  if (bits < MIN_KEY_BITS) return `${characters.length} characters from a ${alphabet}-symbol alphabet carry at most ${bits} bits, need ${MIN_KEY_BITS}`;
  return null;
}

/** Hex (an even number of hex digits) or base64/base64url (padding optional) key material, else null. */
function decodeKeyMaterial(key: string): Buffer | null {
  if (/^(?:[0-9a-fA-F]{2})+$/.test(key)) return Buffer.from(key, 'hex');
  if (/^[A-Za-z0-9+/]+={0,2}$/.test(key) || /^[A-Za-z0-9_-]+={0,2}$/.test(key)) {
    const body = key.replace(/=+$/, '');
    if (body.length % 4 === 1) return null;
    return Buffer.from(body.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  }
  return null;
}

/** Sequences and words: what a person types, not what a random generator prints. */
function textLikeness(key: string): string | null {
  // Over 16 hex digits, short runs happen by chance; over larger alphabets a run of 4 is already rare (< 0.1%).
  const longest = /^[0-9a-fA-F]+$/.test(key) ? 6 : 4;
  let run = 1;
  let direction = 0;
  for (let i = 1; i < key.length; i++) {
    const step = key.charCodeAt(i) - key.charCodeAt(i - 1);
    if ((step === 1 || step === -1) && (run === 1 || step === direction)) {
      direction = step;
      run++;
      if (run >= longest) return 'it contains a run of consecutive characters (like 0123 or abcd); a random key does not';
    } else {
      run = (step === 1 || step === -1) ? 2 : 1;
      direction = step;
    }
  }
  // Letters in word-shaped runs (lower case, capitalised, or upper case, 5 or more): random keys change case and class often.
  let wordy = 0;
  for (const match of key.matchAll(/[A-Z]?[a-z]{4,}|[A-Z]{5,}/g)) if (match[0].length >= 5) wordy += match[0].length;
  if (wordy * 2 >= key.length) return 'it reads like words; a random key does not';
  return null;
}

/**
 * A crude randomness estimate on bytes: the distinct values and the
 * empirical entropy of n random bytes (or characters) stay close to what n
 * uniform draws give; text and repetitions fall far below.
 */
function randomnessProblem(bytes: Buffer, what: string): string | null {
  const counts = new Map<number, number>();
  for (const b of bytes) counts.set(b, (counts.get(b) ?? 0) + 1);
  const alphabet = what === 'its decoded bytes' ? 256 : 94;
  const n = bytes.length;
  const expectedDistinct = alphabet * (1 - Math.pow(1 - 1 / alphabet, n));
  if (counts.size < 0.6 * expectedDistinct) return `${what} repeat far more than random key material (${counts.size} distinct values)`;
  let shannon = 0;
  for (const c of counts.values()) shannon -= (c / n) * Math.log2(c / n);
  if (shannon < 0.75 * Math.log2(Math.min(n, alphabet))) return `${what} repeat far more than in random key material`;
  return null;
}

/**
 * A whole-key estimate is fooled by a random part hiding a constant one
 * (24 random bytes + 8 zero bytes passes it with 192 bits), so every part is
 * checked on its own: no 8-byte window may hold fewer than 4 distinct values, and no 5 consecutive bytes may step by a
 * constant (00 01 02 03 04, or a constant run). For real random keys each of
 * these fails with a probability of a few in a million.
 */
function partsProblem(bytes: Buffer, what: string): string | null {
  for (let at = 0; at + 8 <= bytes.length; at += 8) {
    if (new Set(bytes.subarray(at, at + 8)).size < 4) return `8 consecutive bytes of ${what.replace(/^its /, 'the key\'s ')} hold fewer than 4 distinct values; a random key does not`;
  }
  for (let at = 0; at + 5 <= bytes.length; at++) {
    const step = (bytes[at + 1]! - bytes[at]! + 256) % 256;
    let regular = true;
    for (let i = at + 2; i < at + 5 && regular; i++) regular = (bytes[i]! - bytes[i - 1]! + 256) % 256 === step;
    if (regular) return `${what} contain a counting or constant sequence of 5 or more; a random key does not`;
  }
  return null;
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

/** A UUID carries at most 122 random bits, and its dashes make a key look longer than it is. */
function uuidKeyProblem(key: string): string | null {
  const uuids = key.match(UUID);
  if (!uuids) return null;
  const rest = key.replace(UUID, '');
  const restBits = rest === '' ? 0 : /^[0-9a-fA-F]*$/.test(rest) ? rest.length * 4 : rest.length * 6;
  const bits = uuids.length * 122 + restBits;
  return bits < MIN_KEY_BITS ? `it is made of UUIDs, which carry at most ${bits} random bits here, need ${MIN_KEY_BITS}` : null;
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
