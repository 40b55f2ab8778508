/**
 * The leak-proof guarantee, attacked: an adversarial corpus (leak-corpus.ts)
 * goes through the real `syrf-db anonymize` CLI, and the byte-level scanner
 * looks for every planted value in every output (the archive, stdout,
 * stderr), case-insensitively, URL- and base64-decoded. Under the shipped
 * rules and under a strict rules file: 0 hits, whether the run succeeds or
 * is refused by the coverage check.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STRICT_CORPUS_RULES, corpusArchive, leakCorpus, type LeakCorpus } from '../../support/leak-corpus.js';
import { scanForLeaks } from '../../support/leak-scanner.js';
import { parseRules } from '../../../runtime/anonymize/rules.js';
import { repoRoot, runCli } from '../../support/cli.js';

const SEED = Number(process.env.LEAK_CORPUS_SEED ?? 20261125);

describe('leak corpus through syrf-db anonymize', () => {
  let dir: string;
  let corpus: LeakCorpus;
  let input: string;
  let keyFile: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'syrf-leak-'));
    corpus = leakCorpus({ seed: SEED });
    input = join(dir, 'corpus.archive');
    await writeFile(input, await corpusArchive(corpus));
    keyFile = join(dir, 'key');
    await writeFile(keyFile, randomBytes(48).toString('base64'));
    await writeFile(join(dir, 'strict.yaml'), STRICT_CORPUS_RULES);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('the scanner finds every planted value in the input (so 0 hits below means something)', async () => {
    const hits = scanForLeaks({ input: await readFile(input) }, corpus.planted);
    const found = new Set(hits.map((h) => h.value));
    const missing = corpus.planted.filter((p) => !found.has(p.toLowerCase()));
    expect(missing).toEqual([]);
  });

  it('rules init writes a complete v2 skeleton that loads, holds no planted value, and is never overwritten', async () => {
    const out = join(dir, 'skeleton.yaml');
    const first = await runCli(['rules', 'init', '--archive', input, '--output', out]);
    expect(first.code, first.stderr).toBe(0);
    const skeleton = await readFile(out, 'utf8');
    expect(scanForLeaks({ skeleton, stdout: first.stdout, stderr: first.stderr }, corpus.planted)).toEqual([]);
    const loaded = parseRules(skeleton, out);
    expect(loaded.version).toBe(2);
    expect(loaded.unnamedFields).toBe('refuse');
    const investigator = loaded.collections.get('pmInvestigator')!;
    const byPath = new Map(investigator.fields.map((f) => [f.path, f]));
    expect(byPath.get('Email')?.transform).toBe('hash_email');
    expect(byPath.get('Subscriptions')?.keys).toBe('hash'); // a map keyed by emails and names, listed once
    expect(byPath.get('CreatedBy')?.transform).toBe('sequential');
    expect(skeleton).toMatch(/ReviewerEmail: hash_email\s+# string; in 1\/10000 docs; looks like email/);
    expect(skeleton).toMatch(/'?Contact\\\.Email'?: hash_email/);
    expect(skeleton).toMatch(/Abstract: mask /);

    const again = await runCli(['rules', 'init', '--archive', input, '--output', out]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already exists; rules init never overwrites/);
    expect(await readFile(out, 'utf8')).toBe(skeleton);
  }, 180_000);

  async function run(rulesFile: string, name: string, extra: string[] = []) {
    const output = join(dir, `${name}.archive.gz`);
    const result = await runCli(['anonymize', '--rules', rulesFile, '--input', input, '--output', output, '--gzip', '--key-file', keyFile, ...extra], {
      env: { SYRF_LOG_FORMAT: 'json' },
    });
    const outputs: Record<string, Buffer | string> = { stdout: result.stdout, stderr: result.stderr };
    for (const file of await readdir(dir)) if (file.startsWith(name) || file.startsWith(`.${name}`)) outputs[file] = await readFile(join(dir, file));
    return { result, outputs, hits: scanForLeaks(outputs, corpus.planted) };
  }

  it('strict rules file: the run succeeds and no planted value is in any output', async () => {
    const { result, outputs, hits } = await run(join(dir, 'strict.yaml'), 'strict', ['--strict']);
    console.log(`strict rules: exit ${result.code}, ${hits.length} hit(s)`, hits.slice(0, 10), result.code ? result.stderr.slice(0, 1500) : "");
    expect(hits).toEqual([]);
    expect(result.stderr).not.toMatch(/unexpected|at .*\.ts:\d+/);
    expect(result.code).toBe(0);
    expect(Object.keys(outputs)).toContain('strict.archive.gz');
  }, 180_000);

  it('shipped rules: refused or not, no planted value is in any output', async () => {
    const { result, hits } = await run(join(repoRoot, 'rules', 'anonymization-rules.yaml'), 'shipped');
    console.log(`shipped rules: exit ${result.code}, ${hits.length} hit(s)`, hits.slice(0, 10));
    expect(hits).toEqual([]);
    // Collections no rule names are refused (3, by the engine at the prelude, or 5, by the check).
    expect([3, 5]).toContain(result.code);
    expect(result.stderr).toMatch(/<unnamed collection #\d+>/);
    expect(result.stderr).not.toMatch(/pmNewFeature/);
  }, 180_000);

  it('shipped rules on the collections they name: the coverage check refuses names kept by keep_subtree; no planted value anywhere', async () => {
    const { result, hits } = await run(join(repoRoot, 'rules', 'anonymization-rules.yaml'), 'named', ['--collections', 'pmInvestigator,pmProject,pmStudy']);
    console.log(`shipped rules, named collections: exit ${result.code}, ${hits.length} hit(s)`, hits.slice(0, 10));
    expect(hits).toEqual([]);
    if (result.code !== 0) {
      expect(result.code).toBe(5);
      expect(result.stderr).toMatch(/coverage check found/);
    }
  }, 180_000);

  it('shipped rules with the strict check: still no planted value in any output', async () => {
    const { result, hits } = await run(join(repoRoot, 'rules', 'anonymization-rules.yaml'), 'lenient', ['--strict']);
    console.log(`shipped rules --strict: exit ${result.code}, ${hits.length} hit(s)`, hits.slice(0, 10));
    expect(hits).toEqual([]);
  }, 180_000);
});
