/**
 * Makes a manifest's claims (above all `anonymized: true`) verifiable
 * without the HMAC key: the producer signs the manifest with an Ed25519
 * key only it holds; restorers hold public keys and refuse an anonymized
 * manifest that is unsigned or whose signature does not verify. Someone with
 * write access to the bucket can then no longer pass raw data off as
 * anonymized, nor swap the archive (its sha256 is part of what is signed).
 *
 * The signature covers a canonical serialization of the manifest without its
 * `signature` field: keys sorted by UTF-16 code units at every level, no
 * whitespace, numbers and strings as JSON.stringify writes them (RFC 8785
 * for the values a manifest holds), prefixed with a domain label so the
 * key signs nothing else by accident.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ExitCode, UserError } from '../errors.js';
import { registerSecret } from '../ops/redact.js';
import { ENV } from '../contract/environment.js';

export const SIGNING_KEY_ENV = ENV.manifestSigningKey;
export const PUBLIC_KEYS_ENV = ENV.manifestPublicKeys;
/** Development only: lets a snapshot publish an anonymized manifest without a signature (the value must be `development`). */
export const ALLOW_UNSIGNED_ENV = 'SYRF_ALLOW_UNSIGNED_MANIFEST';

/**
 * An anonymized snapshot is published signed, or not at all: restores that hold the public
 * keys refuse an unsigned anonymized manifest, so an unsigned one would only fail later and
 * further from its cause. Development and tests opt out explicitly.
 */
export function checkSigningRequirement(input: { anonymized: boolean; signed: boolean; allowUnsigned: boolean }): void {
  if (!input.anonymized || input.signed || input.allowUnsigned) return;
  throw new UserError('refusing to publish an anonymized snapshot without signing its manifest: no signing key', {
    hint: `set ${SIGNING_KEY_ENV} or pass --signing-key-file (create a pair with \`syrf-db keys generate\`); for local development only, pass --allow-unsigned or set ${ALLOW_UNSIGNED_ENV}=development`,
    exitCode: ExitCode.refused,
  });
}

export function unsignedAllowedByEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  return env[ALLOW_UNSIGNED_ENV] === 'development';
}
export const SIGNATURE_ALGORITHM = 'ed25519';
const DOMAIN = 'syrf-db-tools manifest signature v1\n';

export interface ManifestSignature {
  algorithm: typeof SIGNATURE_ALGORITHM;
  /** First 16 hex digits of the sha256 of the public key (SPKI DER): picks the key among several during rotation. */
  keyId: string;
  /** base64 Ed25519 signature. */
  value: string;
}

export interface SigningKey {
  privateKey: KeyObject;
  keyId: string;
}

/** JSON with keys sorted at every level and no whitespace; `undefined` members dropped as JSON.stringify does. */
export function canonicalJson(value: unknown): string {
  return write(JSON.parse(JSON.stringify(value)) as unknown);
  function write(v: unknown): string {
    if (Array.isArray(v)) return `[${v.map(write).join(',')}]`;
    if (v !== null && typeof v === 'object') {
      const entries = Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${write((v as Record<string, unknown>)[k])}`);
      return `{${entries.join(',')}}`;
    }
    return JSON.stringify(v);
  }
}

/** The bytes signed for a manifest: the domain label and the canonical manifest without `signature`. */
export function signedBytes(manifestJson: Record<string, unknown>): Buffer {
  const { signature: _ignored, ...rest } = manifestJson;
  return Buffer.from(DOMAIN + canonicalJson(rest), 'utf8');
}

export function signManifestJson(manifestJson: Record<string, unknown>, key: SigningKey): ManifestSignature {
  return { algorithm: SIGNATURE_ALGORITHM, keyId: key.keyId, value: sign(null, signedBytes(manifestJson), key.privateKey).toString('base64') };
}

export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 16);
}

/** A private key as PEM (PKCS#8) or as base64 of its PKCS#8 DER (one line, for an environment variable). */
export function parseSigningKey(text: string, where: string): SigningKey {
  registerSecret(text.trim());
  try {
    const trimmed = text.trim();
    const privateKey = trimmed.startsWith('-----')
      ? createPrivateKey(trimmed)
      : createPrivateKey({ key: Buffer.from(trimmed, 'base64'), format: 'der', type: 'pkcs8' });
    if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error(`it is a ${privateKey.asymmetricKeyType} key`);
    return { privateKey, keyId: keyIdOf(createPublicKey(privateKey)) };
  } catch (error) {
    throw new UserError(`${where} is not an Ed25519 private key (${(error as Error).message.split('\n')[0]})`, {
      hint: 'create a key pair with `syrf-db keys generate` and store the private key in the producer\'s Secret',
      exitCode: ExitCode.usage,
    });
  }
}

/** The producer's key: `--signing-key-file`, else $SYRF_MANIFEST_SIGNING_KEY, else none. */
export async function loadSigningKey(options: { keyFile?: string; env?: NodeJS.ProcessEnv } = {}): Promise<SigningKey | undefined> {
  if (options.keyFile !== undefined) {
    let text: string;
    try {
      text = await readFile(options.keyFile, 'utf8');
    } catch (error) {
      throw new UserError(`cannot read the signing key file ${options.keyFile}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`, { exitCode: ExitCode.usage });
    }
    return parseSigningKey(text, `--signing-key-file ${options.keyFile}`);
  }
  const value = (options.env ?? process.env)[SIGNING_KEY_ENV];
  return value && value.trim() !== '' ? parseSigningKey(value, `$${SIGNING_KEY_ENV}`) : undefined;
}

/** Public keys from $SYRF_MANIFEST_PUBLIC_KEYS: base64 SPKI DER or PEM blocks, separated by commas or whitespace. */
export function publicKeysFromEnv(env: NodeJS.ProcessEnv = process.env): Map<string, KeyObject> {
  const text = env[PUBLIC_KEYS_ENV] ?? '';
  const keys = new Map<string, KeyObject>();
  const pems = text.match(/-----BEGIN PUBLIC KEY-----[\s\S]*?-----END PUBLIC KEY-----/g) ?? [];
  const rest = text.replace(/-----BEGIN PUBLIC KEY-----[\s\S]*?-----END PUBLIC KEY-----/g, ' ');
  const items = [...pems, ...rest.split(/[\s,;]+/).filter(Boolean)];
  for (const item of items) {
    let key: KeyObject;
    try {
      key = item.startsWith('-----') ? createPublicKey(item) : createPublicKey({ key: Buffer.from(item, 'base64'), format: 'der', type: 'spki' });
      if (key.asymmetricKeyType !== 'ed25519') throw new Error(`a ${key.asymmetricKeyType} key`);
    } catch (error) {
      throw new UserError(`${PUBLIC_KEYS_ENV} holds something that is not an Ed25519 public key (${(error as Error).message.split('\n')[0]})`, {
        hint: 'set it to the public key(s) printed by `syrf-db keys generate`, separated by commas',
        exitCode: ExitCode.usage,
      });
    }
    keys.set(keyIdOf(key), key);
  }
  return keys;
}

export type SignatureStatus = 'valid' | 'unsigned' | 'unknown-key' | 'invalid';

export function signatureStatus(manifestJson: Record<string, unknown>, keys: ReadonlyMap<string, KeyObject>): SignatureStatus {
  const signature = manifestJson.signature as Partial<ManifestSignature> | undefined;
  if (signature === undefined || signature === null) return 'unsigned';
  if (typeof signature !== 'object' || signature.algorithm !== SIGNATURE_ALGORITHM || typeof signature.keyId !== 'string' || typeof signature.value !== 'string') return 'invalid';
  const key = keys.get(signature.keyId);
  if (!key) return 'unknown-key';
  const bytes = Buffer.from(signature.value, 'base64');
  if (bytes.length !== 64 || bytes.toString('base64') !== signature.value) return 'invalid';
  return verify(null, signedBytes(manifestJson), key, bytes) ? 'valid' : 'invalid';
}

/**
 * The restore-side trust decision, made from the manifest text as stored.
 * With public keys configured: any signature present must verify, and a
 * manifest claiming `anonymized: true` must carry one. Unset, there is
 * nothing to check against (development and tests); set but empty (a
 * deployment whose key list went missing), nothing anonymized is trusted.
 */
export function checkManifestTrust(manifestText: string, where: string, env: NodeJS.ProcessEnv = process.env): void {
  if (env[PUBLIC_KEYS_ENV] === undefined) return;
  const keys = publicKeysFromEnv(env);
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(manifestText) as Record<string, unknown>;
  } catch {
    return; // parseManifest reports malformed JSON with its own message
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return;
  const status = signatureStatus(json, keys);
  const anonymized = (json.anonymization as { anonymized?: unknown } | undefined)?.anonymized === true;
  const refuse = (problem: string) =>
    new UserError(`refusing ${where}: ${problem}`, {
      hint: `a manifest is trusted only when signed by the producer's key (${PUBLIC_KEYS_ENV} lists the accepted public keys); restore another snapshot and investigate who wrote this one`,
      exitCode: ExitCode.refused,
    });
  if (status === 'invalid') throw refuse('its signature does not verify (the manifest was changed after it was signed, or the signature is damaged)');
  if (status === 'unknown-key' && keys.size > 0) throw refuse(`it is signed by key ${(json.signature as ManifestSignature).keyId}, which is not among the ${keys.size} accepted public key(s)`);
  if (status === 'unsigned' && anonymized) throw refuse('it says anonymized: true but is not signed');
  if (keys.size === 0 && anonymized) throw refuse(`${PUBLIC_KEYS_ENV} is set but lists no public key, so no anonymized manifest can be trusted`);
}

/** A new key pair, as one-line base64 DER strings for environment variables and Secrets. */
export function generateSigningKeyPair(): { privateKey: string; publicKey: string; keyId: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privateKey: privateKey.export({ type: 'pkcs8', format: 'der' }).toString('base64'),
    publicKey: publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
    keyId: keyIdOf(publicKey),
  };
}
