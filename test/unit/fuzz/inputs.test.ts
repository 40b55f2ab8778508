/**
 * Bounded, seeded fuzzing of every untrusted input the CLI reads: archives,
 * manifests, rules files and PR descriptions. Every case must end in success
 * or one clear UserError within a generous bound (a hang detector, not a
 * speed target); a sample also runs through the real CLI, which must print
 * no stack trace and leave no file behind. A failing case names its seed and
 * number, so it reproduces.
 */
import { mkdtemp, readFile, readdir, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openArchive } from '../../../runtime/archive/reader.js';
import { parseRules } from '../../../runtime/anonymize/rules.js';
import { isUserError } from '../../../runtime/errors.js';
import { parsePreviewConfig } from '../../../runtime/preview-config/parse.js';
import { parseManifest, serializeManifest } from '../../../runtime/snapshot/manifest.js';
import { checkManifestTrust, generateSigningKeyPair, parseSigningKey, PUBLIC_KEYS_ENV } from '../../../runtime/snapshot/signature.js';
import { plausiblePseudonyms } from '../../../runtime/snapshot/plausibility.js';
import { verifySnapshot } from '../../../runtime/snapshot/verify.js';
import { openStore } from '../../../runtime/store/open.js';
import { seededRandom } from '../../support/random.js';
import { runCli } from '../../support/cli.js';
import { archiveOf, storeSnapshot } from '../../support/stored-snapshot.js';
import { split } from '../archive/helpers.js';

const SEED = 0xf022;
/** Far above any honest case (milliseconds); only a hang or a blow-up reaches it. */
const CASE_BOUND_MS = 5_000;
const TEXT_SPLICES = ['&a ', '*a', '[', '{', ']', '}', '\0', '"', "'", '\ud800', '__proto__: 1', 'constructor:', '? ', ': ', '\t', '- ', '#', '---\n', '\n', '%YAML 1.1\n', '!!binary ', '<<: *a', '\\u0000', 'x'.repeat(300)];

type Random = () => number;

function mutateBytes(random: Random, input: Buffer): Buffer {
  let bytes = Buffer.from(input);
  for (let n = 1 + Math.floor(random() * 3); n > 0; n--) {
    const at = Math.floor(random() * Math.max(1, bytes.length));
    switch (Math.floor(random() * 5)) {
      case 0:
        bytes[at] = Math.floor(random() * 256);
        break;
      case 1:
        bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from([Math.floor(random() * 256), Math.floor(random() * 256)]), bytes.subarray(at)]);
        break;
      case 2:
        bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(Math.min(bytes.length, at + 1 + Math.floor(random() * 16)))]);
        break;
      case 3:
        bytes = bytes.subarray(0, at);
        break;
      default:
        bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at, at + 32), bytes.subarray(at)]);
    }
  }
  return bytes;
}

function mutateText(random: Random, input: string): string {
  let text = input;
  for (let n = 1 + Math.floor(random() * 3); n > 0; n--) {
    const at = Math.floor(random() * (text.length + 1));
    switch (Math.floor(random() * 4)) {
      case 0:
        text = text.slice(0, at) + TEXT_SPLICES[Math.floor(random() * TEXT_SPLICES.length)] + text.slice(at);
        break;
      case 1:
        text = text.slice(0, at) + text.slice(at + 1 + Math.floor(random() * 8));
        break;
      case 2:
        text = text.slice(0, at) + String.fromCharCode(Math.floor(random() * 128)) + text.slice(at + 1);
        break;
      default: {
        const from = Math.floor(random() * text.length);
        text = text.slice(0, at) + text.slice(from, from + 40) + text.slice(at);
      }
    }
  }
  return text;
}

interface Outcome {
  ok: number;
  refused: number;
  slowestMs: number;
}

/** Runs `cases` inputs through `run`; anything but success or a UserError fails the test with the case number. */
async function fuzz(name: string, cases: number, make: (random: Random) => unknown, run: (input: any) => unknown): Promise<Outcome> {
  const random = seededRandom(SEED ^ name.length);
  const outcome: Outcome = { ok: 0, refused: 0, slowestMs: 0 };
  for (let i = 0; i < cases; i++) {
    const input = make(random);
    const started = performance.now();
    try {
      await run(input);
      outcome.ok++;
    } catch (error) {
      if (!isUserError(error)) {
        throw new Error(`${name} case ${i} (seed ${SEED}) ended in ${(error as Error)?.constructor?.name}: ${(error as Error)?.message}\ninput: ${JSON.stringify(Buffer.isBuffer(input) ? input.toString('base64') : input).slice(0, 2000)}`);
      }
      outcome.refused++;
    }
    const ms = performance.now() - started;
    outcome.slowestMs = Math.max(outcome.slowestMs, ms);
    if (ms > CASE_BOUND_MS) throw new Error(`${name} case ${i} (seed ${SEED}) took ${ms.toFixed(0)} ms`);
  }
  return outcome;
}

const RULES = await readFile(new URL('../../../rules/anonymization-rules.yaml', import.meta.url), 'utf8');
const PR_BODY = [
  '## What',
  'Fixes the export.',
  '',
  '```yaml',
  '#preview-config',
  'database:',
  '  source: snapshot',
  '  snapshotId: "2026-01-09"',
  '  collections: [pmProject, pmStudy]',
  'web:',
  '  featureFlags: { experimentalFeature: true }',
  '```',
].join('\n');
const known = { knownCollections: ['pmProject', 'pmStudy', 'pmInvestigator'] };
const pair = generateSigningKeyPair();
const signingKey = parseSigningKey(pair.privateKey, 'fuzz key');
const pseudo = 'user-0123456789abcdef0123@anonymized.syrf.local';
const collections = {
  pmInvestigator: [
    { _id: 1, Email: pseudo, FirstName: 'User 1', Tags: ['a', 'b'], Nested: { x: 1.5, y: [1, { z: 'ü' }] } },
    { _id: 2, Email: pseudo, Auth0Id: `anon|${'ab'.repeat(16)}`, When: new Date(0) },
  ],
  pmProject: [{ _id: 3, Name: 'P', Members: [{ Email: pseudo }] }],
};

describe('fuzzing untrusted inputs (seeded, bounded)', () => {
  let root: string;
  let archive: Buffer;
  let manifestText: string;
  const outcomes: Record<string, Outcome> = {};

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'syrf-fuzz-'));
    archive = await archiveOf(collections);
    const stored = await storeSnapshot(join(root, 'base'), '2026-01-09', collections, { manifestText: (m) => serializeManifest(m, signingKey) });
    manifestText = await readFile(stored.manifestPath, 'utf8');
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
    // eslint-disable-next-line no-console
    console.log('fuzz outcomes', JSON.stringify(outcomes));
  });

  it('archives (plain and gzip) through the reader and the pseudonym check', { timeout: 120_000 }, async () => {
    const rules = parseRules(RULES, 'rules.yaml');
    const gz = gzipSync(archive);
    outcomes.archives = await fuzz(
      'archives',
      1500,
      (random) => mutateBytes(random, random() < 0.5 ? archive : gz),
      async (bytes: Buffer) => {
        for await (const e of plausiblePseudonyms(openArchive(split(bytes, [7, 300])), rules)) void e;
      },
    );
    expect(outcomes.archives.refused).toBeGreaterThan(100);
  });

  it('stored snapshots through verify', { timeout: 120_000 }, async () => {
    const dir = join(root, 'verify');
    const store = openStore(`file://${dir}`);
    const manifest = parseManifest(manifestText, 'manifest');
    const gz = gzipSync(archive);
    await mkdir(join(dir, 'prod', '2026-01-09'), { recursive: true });
    outcomes.verify = await fuzz(
      'verify',
      100,
      (random) => mutateBytes(random, gz),
      async (bytes: Buffer) => {
        await writeFile(join(dir, 'prod', '2026-01-09', 'dump.gz'), bytes);
        await verifySnapshot(store, '2026-01-09', manifest);
      },
    );
  });

  it('manifests through the parser and the signature check', { timeout: 120_000 }, async () => {
    const env = { [PUBLIC_KEYS_ENV]: pair.publicKey };
    outcomes.manifests = await fuzz(
      'manifests',
      1000,
      (random) => (random() < 0.5 ? mutateText(random, manifestText) : mutateBytes(random, Buffer.from(manifestText)).toString('utf8')),
      (text: string) => {
        checkManifestTrust(text, 'manifest', env);
        parseManifest(text, 'manifest');
      },
    );
    expect(outcomes.manifests.refused).toBeGreaterThan(100);
  });

  it('rules files through the loader', { timeout: 120_000 }, async () => {
    outcomes.rules = await fuzz('rules', 250, (random) => mutateText(random, RULES), (text: string) => parseRules(text, 'rules.yaml'));
    expect(outcomes.rules.refused).toBeGreaterThan(50);
  });

  it('PR descriptions through the policy parser', { timeout: 120_000 }, async () => {
    outcomes.prBodies = await fuzz('pr-bodies', 1000, (random) => mutateText(random, PR_BODY), (text: string) => parsePreviewConfig(text, known));
    expect(outcomes.prBodies.refused).toBeGreaterThan(100);
  });

  it('a sample through the real CLI: no stack trace, no leftover file', { timeout: 120_000 }, async () => {
    const random = seededRandom(SEED);
    const gz = gzipSync(archive);
    const runs: Array<Promise<void>> = [];
    for (let i = 0; i < 2; i++) {
      const caseDir = join(root, `cli-${i}`);
      const input = join(root, `cli-${i}.archive.gz`);
      const rulesFile = join(root, `cli-${i}.rules.yaml`);
      const body = join(root, `cli-${i}.md`);
      const damaged = mutateBytes(random, gz);
      const rulesText = i === 0 ? RULES : mutateText(random, RULES);
      const bodyText = mutateText(random, PR_BODY);
      runs.push(
        (async () => {
          await mkdir(caseDir);
          await writeFile(input, damaged);
          await writeFile(rulesFile, rulesText);
          await writeFile(body, bodyText);
          const results = await Promise.all([
            runCli(['anonymize', '--rules', rulesFile, '--input', input, '--output', join(caseDir, 'out.archive')], { env: { SYRF_ANONYMIZATION_KEY: 'n7Rk2Qx9LvB4mT8wZ1cY6pH3dF5gJ0sAq8Ue2Xi7oW4tN9bK3yV6zM1rC5aE0hG' } }),
            runCli(['preview-config', '--pr-body', body, '--rules', rulesFile]),
          ]);
          for (const result of results) {
            expect(result.signal, result.stderr).toBeNull();
            expect(result.stderr, `case ${i}`).not.toMatch(/unexpected failure|\n\s+at /);
            if (result.code !== 0) expect(result.stderr).toMatch(/^error: /m);
          }
          const left = (await readdir(caseDir)).filter((f) => f !== 'out.archive');
          expect(left, `case ${i} left files`).toEqual([]);
        })(),
      );
    }
    await Promise.all(runs);
  });
});
