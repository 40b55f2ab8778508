/**
 * A manifest's anonymized claim is verifiable: signed by the producer's
 * Ed25519 key, checked by every reader that restores, verifies or promotes.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readArchive } from '../../../runtime/archive/reader.js';
import { parseRules } from '../../../runtime/anonymize/rules.js';
import { ExitCode, UserError } from '../../../runtime/errors.js';
import { serializeManifest } from '../../../runtime/snapshot/manifest.js';
import { plausiblePseudonyms } from '../../../runtime/snapshot/plausibility.js';
import { canonicalJson, checkManifestTrust, generateSigningKeyPair, parseSigningKey, PUBLIC_KEYS_ENV } from '../../../runtime/snapshot/signature.js';
import { runCli } from '../../support/cli.js';
import { archiveOf, manifestFor, storeSnapshot } from '../../support/stored-snapshot.js';
import { split } from '../archive/helpers.js';

const pair = generateSigningKeyPair();
const key = parseSigningKey(pair.privateKey, 'test key');
const env = { [PUBLIC_KEYS_ENV]: pair.publicKey };
const other = generateSigningKeyPair();

function refusal(run: () => unknown): UserError {
  try {
    run();
  } catch (error) {
    if (error instanceof UserError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

const manifest = manifestFor('2026-01-09', Buffer.from('gz'), Buffer.from('raw'), { people: 2 }, true);

describe('manifest signatures', () => {
  it('a signed manifest verifies, also with its keys reordered and re-indented', () => {
    const text = serializeManifest(manifest, key);
    expect(() => checkManifestTrust(text, 'm', env)).not.toThrow();
    const json = JSON.parse(text) as Record<string, unknown>;
    const reordered = JSON.stringify(Object.fromEntries(Object.entries(json).reverse()));
    expect(() => checkManifestTrust(reordered, 'm', env)).not.toThrow();
    expect(canonicalJson({ b: 1, a: [{ d: 2, c: 'x' }] })).toBe('{"a":[{"c":"x","d":2}],"b":1}');
  });

  it('refuses an edited, an unsigned-anonymized and a foreign-signed manifest when a public key is configured', () => {
    const signed = JSON.parse(serializeManifest(manifestFor('2026-01-09', Buffer.from('gz'), Buffer.from('raw'), { people: 2 }, false), key)) as Record<string, any>;
    signed.anonymization.anonymized = true;
    expect(refusal(() => checkManifestTrust(JSON.stringify(signed), 'm', env)).message).toMatch(/signature does not verify/);

    const unsigned = serializeManifest(manifest);
    const error = refusal(() => checkManifestTrust(unsigned, 'the manifest', env));
    expect(error.message).toBe('refusing the manifest: it says anonymized: true but is not signed');
    expect(error.exitCode).toBe(ExitCode.refused);

    const foreign = serializeManifest(manifest, parseSigningKey(other.privateKey, 'other'));
    expect(refusal(() => checkManifestTrust(foreign, 'm', env)).message).toMatch(/signed by key [0-9a-f]{16}, which is not among the 1 accepted/);

    const sha = JSON.parse(serializeManifest(manifest, key)) as Record<string, any>;
    sha.archive.sha256 = 'b'.repeat(64);
    expect(refusal(() => checkManifestTrust(JSON.stringify(sha), 'm', env)).message).toMatch(/signature does not verify/);
  });

  it('accepts rotation (two keys) and an unsigned raw manifest; checks nothing without keys', () => {
    const both = { [PUBLIC_KEYS_ENV]: `${other.publicKey}, ${pair.publicKey}` };
    expect(() => checkManifestTrust(serializeManifest(manifest, key), 'm', both)).not.toThrow();
    const raw = serializeManifest(manifestFor('2026-01-09', Buffer.from('gz'), Buffer.from('raw'), { people: 2 }, false));
    expect(() => checkManifestTrust(raw, 'm', env)).not.toThrow();
    expect(() => checkManifestTrust(serializeManifest(manifest), 'm', {})).not.toThrow();
  });

  it('refuses a malformed public key list with a clear error', () => {
    expect(refusal(() => checkManifestTrust(serializeManifest(manifest), 'm', { [PUBLIC_KEYS_ENV]: 'not-a-key' })).message).toMatch(
      /SYRF_MANIFEST_PUBLIC_KEYS holds something that is not an Ed25519 public key/,
    );
  });
});

describe('through the CLI', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'syrf-signature-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('keys generate → signed snapshot verifies; a raw snapshot relabelled anonymized is refused by verify (exit 3)', { timeout: 120_000 }, async () => {
    const generated = await runCli(['keys', 'generate']);
    expect(generated.code).toBe(0);
    const priv = /^SYRF_MANIFEST_SIGNING_KEY=(\S+)$/m.exec(generated.stdout)![1]!;
    const pub = /^SYRF_MANIFEST_PUBLIC_KEYS=(\S+)$/m.exec(generated.stdout)![1]!;
    const signingKey = parseSigningKey(priv, 'generated');

    const good = await storeSnapshot(join(root, 'good'), '2026-01-09', { people: [{ _id: 1, Email: 'user-0123456789abcdef0123@anonymized.syrf.local' }] }, {
      manifestText: (m) => serializeManifest(m, signingKey),
    });
    const ok = await runCli(['verify', 'latest', '--from', good.storeUrl], { env: { [PUBLIC_KEYS_ENV]: pub } });
    expect(ok.code, ok.stderr).toBe(0);

    // The attack: a raw snapshot's manifest edited to say anonymized: true (no private key to re-sign it).
    const forged = await storeSnapshot(join(root, 'forged'), '2026-01-09', { people: [{ _id: 1, Email: 'alice@ed.ac.uk' }] }, { anonymized: false });
    const text = JSON.parse(await readFile(forged.manifestPath, 'utf8')) as Record<string, any>;
    text.anonymization = { anonymized: true, rulesSha256: 'a'.repeat(64), keyFingerprint: 'f'.repeat(16), sizeLimitsApplied: false };
    await writeFile(forged.manifestPath, JSON.stringify(text));
    const refused = await runCli(['verify', 'latest', '--from', forged.storeUrl], { env: { [PUBLIC_KEYS_ENV]: pub } });
    expect(refused.code).toBe(ExitCode.refused);
    expect(refused.stderr).toMatch(/^error: refusing the manifest of snapshot 2026-01-09 .*: it says anonymized: true but is not signed$/m);
    expect(refused.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('restore-side pseudonym plausibility', () => {
  const rules = parseRules(
    ['version: 1', 'rules:', '  pmInvestigator:', '    fields:', '      Email: { transform: hash_email }', '      Auth0Id: { transform: hash, prefix: "anon|" }', '  pmProject:', '    fields:', '      Members[].Email: { transform: hash_email }'].join('\n'),
    'rules.yaml',
  );
  const pseudo = 'user-0123456789abcdef0123@anonymized.syrf.local';
  const drain = async (events: AsyncIterable<unknown>) => {
    for await (const e of events) void e;
  };

  it('passes real pseudonyms', async () => {
    const archive = await archiveOf({
      pmInvestigator: [{ _id: 1, Email: pseudo, Auth0Id: `anon|${'ab'.repeat(16)}` }, { _id: 2, Email: '' }],
      pmProject: [{ _id: 3, Members: [{ Email: pseudo }, { Email: null }] }],
    });
    await expect(drain(plausiblePseudonyms(readArchive(split(archive)), rules))).resolves.toBeUndefined();
  });

  it.each([
    ['a raw email', { pmInvestigator: [{ _id: 1, Email: pseudo }, { _id: 2, Email: 'alice@ed.ac.uk' }] }, /pmInvestigator\.Email in document #2 is not a hash_email pseudonym/],
    ['a raw id', { pmInvestigator: [{ _id: 1, Auth0Id: 'auth0|12345' }] }, /pmInvestigator\.Auth0Id in document #1 is not a hash pseudonym \(expected anon\|<32 hex>\)/],
    ['a raw email inside an array', { pmProject: [{ _id: 3, Members: [{ Email: pseudo }, { Email: 'bob@ed.ac.uk' }] }] }, /pmProject\.Members\.Email in document #1/],
  ])('refuses %s without printing it', async (_name, collections, says) => {
    const archive = await archiveOf(collections as never);
    const error = (await drain(plausiblePseudonyms(readArchive(split(archive)), rules, { snapshotId: '2026-01-09' })).then(
      () => null,
      (e: unknown) => e,
    )) as UserError;
    expect(error).toBeInstanceOf(UserError);
    expect(error.message).toMatch(says);
    expect(error.exitCode).toBe(ExitCode.refused);
    expect(error.message).not.toMatch(/ed\.ac\.uk|12345/);
  });
});
