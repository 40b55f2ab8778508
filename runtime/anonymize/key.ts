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
/** 32 characters of `openssl rand -base64 32` carry about 190 bits. */
export const MIN_KEY_LENGTH = 32;

const KEY_HINT = `set ${KEY_ENV_VAR} or pass --key-file PATH (a mounted Secret) holding at least ${MIN_KEY_LENGTH} random characters, e.g. from \`openssl rand -base64 48\``;

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
  if (key.length < MIN_KEY_LENGTH) {
    throw new UserError(`the anonymization key from the ${source} is too short (${key.length} characters, need at least ${MIN_KEY_LENGTH})`, {
      hint: KEY_HINT,
      exitCode: ExitCode.refused,
    });
  }
  return Buffer.from(key, 'utf8');
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
