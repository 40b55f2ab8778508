import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import yaml from 'js-yaml';
import type { Db, MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileStore } from '../../runtime/store/file-store.js';
import { killedByFault, runCli, runCliWithFault, repoRoot } from '../support/cli.js';
import { seedDataset, type DatasetSummary } from '../support/dataset.js';
import { connectMongo, isFerretDb, mongodbUri, tempDir, uniqueDbName } from '../support/servers.js';

const KEY = { SYRF_ANONYMIZATION_KEY: 'n7Rk2Qx9LvB4mT8wZ1cY6pH3dF5gJ0sAq8Ue2Xi7oW4tN9bK3yV6zM1rC5aE0hG' };
const prDb = () => `syrf_pr_${Math.floor(Math.random() * 1e9)}`;

async function allText(db: Db): Promise<string> {
  const parts: string[] = [];
  for (const info of await db.listCollections().toArray()) {
    const docs = await db.collection(info.name).find().toArray();
    parts.push(JSON.stringify(docs));
  }
  return parts.join('\n').toLowerCase();
}

/** Reads a GITHUB_OUTPUT file the way the Actions runner does (name=value and name<<DELIMITER forms). */
function parseGithubOutput(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const end = lines.indexOf(heredoc[2]!, i + 1);
      outputs[heredoc[1]!] = lines.slice(i + 1, end).join('\n');
      i = end;
    } else if (line.includes('=')) {
      outputs[line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1);
    }
  }
  return outputs;
}

async function collectionNames(db: Db): Promise<string[]> {
  return (await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name).sort();
}

describe('restore and clone through the real servers', () => {
  let client: MongoClient;
  let source: string;
  let seeded: DatasetSummary;
  const dir = tempDir();
  const store = () => `file://${dir.path}/store`;
  const rawStore = () => `file://${dir.path}/raw`;
  const rulesFile = () => join(dir.path, 'rules.yaml');
  const targets: string[] = [];

  beforeAll(async () => {
    client = await connectMongo();
    source = uniqueDbName('syrfsrc_');
    seeded = await seedDataset(client.db(source), { studies: 600 });
    // The real rules, with a project limit small enough to cut this dataset.
    const rules = yaml.load(await readFile(join(repoRoot, 'rules/anonymization-rules.yaml'), 'utf8')) as { size_limits: Record<string, { max_documents?: number }> };
    rules.size_limits.pmProject = { max_documents: 4 };
    await writeFile(rulesFile(), yaml.dump(rules));

    const anonymized = await runCli(['snapshot', '--uri', mongodbUri(), '--db', source, '--to', store(), '--id', '2026-01-09', '--anonymize', '--rules', rulesFile()], { env: KEY });
    expect(anonymized.code, anonymized.stderr).toBe(0);
    const raw = await runCli(['snapshot', '--uri', mongodbUri(), '--db', source, '--to', rawStore(), '--id', '2026-01-09', '--exclude', 'pmAuditLog,asFileListing']);
    expect(raw.code, raw.stderr).toBe(0);
  });

  afterAll(async () => {
    for (const name of [source, ...targets]) await client.db(name).dropDatabase();
    await client.close();
    dir.remove();
  });

  it('restores the latest snapshot into syrf_pr_<N>: subset, limits with referential integrity, indexes, no PII', async () => {
    const target = prDb();
    targets.push(target);
    const auditLog = join(dir.path, 'audit.log');
    const metricsFile = join(dir.path, 'restore.prom');
    const result = await runCli([
      'restore', '--from', store(), '--snapshot', 'latest', '--uri', mongodbUri(), '--target', target,
      '--collections', 'pmProject,pmStudy,pmInvestigator', '--rules', rulesFile(),
      '--audit-log', auditLog, '--metrics-file', metricsFile,
    ], { env: { SYRF_ACTOR: 'e2e-test' } });
    expect(result.code, result.stderr).toBe(0);

    const audit = JSON.parse((await readFile(auditLog, 'utf8')).trim()) as Record<string, any>;
    expect(audit).toMatchObject({
      audit: true,
      event: 'restore',
      who: { identity: 'e2e-test' },
      what: { snapshotId: '2026-01-09', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) },
      where: { target },
      outcome: 'success',
    });
    const metrics = await readFile(metricsFile, 'utf8');
    expect(metrics).toMatch(new RegExp(`syrf_db_job_runs_total\\{job="restore",target="${target}",outcome="success"\\} 1`));
    expect(metrics).toMatch(/syrf_db_job_documents_total\{job="restore",target="[^"]+"\} [1-9]\d*/);
    expect(result.stdout).toMatch(new RegExp(`restored snapshot 2026-01-09 into ${target}: `));

    const db = client.db(target);
    // The lock collection stays (empty) so a concurrent run's lock is never dropped with it.
    expect(await collectionNames(db)).toEqual(['_syrf_restore_lock', 'pmInvestigator', 'pmProject', 'pmStudy']);
    expect(await db.collection('_syrf_restore_lock').countDocuments()).toBe(0);
    const projects = await db.collection('pmProject').find().toArray();
    expect(projects).toHaveLength(4);
    const kept = new Set(projects.map((p) => (p._id as { toString(e: string): string }).toString('hex')));
    const studies = await db.collection('pmStudy').find().toArray();
    expect(studies.length).toBeGreaterThan(0);
    expect(studies.length).toBeLessThan(seeded.counts.pmStudy!);
    for (const study of studies) expect(kept.has((study.ProjectId as { toString(e: string): string }).toString('hex'))).toBe(true);
    // Investigators follow the kept projects' members: all of those, and only those.
    const members = new Set(projects.flatMap((p) => (p.Members as Array<{ InvestigatorId: { toString(e: string): string } }>).map((m) => m.InvestigatorId.toString('hex'))));
    const investigators = (await db.collection('pmInvestigator').find().toArray()).map((i) => (i._id as { toString(e: string): string }).toString('hex'));
    expect(investigators.sort()).toEqual([...members].sort());
    expect(investigators.length).toBeLessThan(seeded.counts.pmInvestigator!);

    const studyIndexes = (await db.collection('pmStudy').indexes()).map((i) => i.name).sort();
    expect(studyIndexes).toEqual(['ProjectId_1', 'ProjectId_1_Year_-1', '_id_']);
    const emailIndex = (await db.collection('pmInvestigator').indexes()).find((i) => i.name === 'Email_1');
    expect(emailIndex?.unique).toBe(true);

    const text = await allText(db);
    const leaked = seeded.pii.filter((value) => text.includes(value.toLowerCase()));
    expect(leaked).toEqual([]);
    expect(text).toContain('@anonymized.syrf.local');
  });

  it('goes from a PR description to a restored preview database, as the PR workflow does', async () => {
    const prNumber = Math.floor(Math.random() * 1e9);
    const body = [
      'Fixes the study export.',
      '',
      '```yaml',
      '#preview-config',
      'database:',
      '  source: snapshot',
      '  snapshotId: latest',
      '  collections:',
      '    - pmProject',
      '    - pmStudy',
      'web:',
      '  featureFlags:',
      '    newExport: true',
      '```',
    ].join('\r\n');
    const outputFile = join(dir.path, `github-output-${prNumber}`);
    const config = await runCli(['preview-config', '--pr-body', '-', '--github-output', outputFile, '--rules', rulesFile(), '--from', store()], { input: body });
    expect(config.code, config.stderr).toBe(0);
    const outputs = parseGithubOutput(await readFile(outputFile, 'utf8'));
    expect(outputs).toMatchObject({ db_source: 'snapshot', snapshot_id: 'latest', anonymize: 'true', collections: '["pmProject","pmStudy"]' });

    const target = `syrf_pr_${prNumber}`;
    targets.push(target);
    const collections = (JSON.parse(outputs.collections!) as string[]).join(',');
    const result = await runCli(['restore', '--from', store(), '--snapshot', outputs.snapshot_id!, '--uri', mongodbUri(), '--target', target, '--collections', collections, '--rules', rulesFile()]);
    expect(result.code, result.stderr).toBe(0);
    const db = client.db(target);
    expect((await collectionNames(db)).filter((n) => !n.startsWith('_syrf'))).toEqual(['pmProject', 'pmStudy']);
    expect(await db.collection('pmProject').countDocuments()).toBe(4);

    const bad = await runCli(['preview-config', '--pr-body', '-', '--rules', rulesFile()], { input: body.replace('pmStudy', 'pmStudies') });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/PR description line 10: "    - pmStudies" — collection "pmStudies" is not one the anonymization rules know/);
  });

  it('anonymizes a raw snapshot in the stream when the rules and the key are present', async () => {
    const target = prDb();
    targets.push(target);
    const result = await runCli(['restore', '--from', rawStore(), '--uri', mongodbUri(), '--target', target, '--rules', rulesFile()], { env: KEY });
    expect(result.code, result.stderr).toBe(0);
    const text = await allText(client.db(target));
    expect(seeded.pii.filter((value) => text.includes(value.toLowerCase()))).toEqual([]);
  });

  it('rules check samples a snapshot in the store and names the fields no rule covers', async () => {
    const ok = await runCli(['rules', 'check', '--rules', rulesFile(), '--from', rawStore(), '--snapshot', 'latest']);
    expect(ok.code, ok.stderr).toBe(0);
    // Under the allow-list a field no rule names is masked, not leaked; a real gap is a subtree kept wholesale.
    const rules = yaml.load(await readFile(rulesFile(), 'utf8')) as { rules: { pmProject: { fields: Record<string, unknown>; default?: unknown } } };
    delete rules.rules.pmProject.fields['Members[].Email'];
    rules.rules.pmProject.default = { transform: 'keep_subtree', reason: 'a careless default' };
    const weaker = join(dir.path, 'weaker-rules.yaml');
    await writeFile(weaker, yaml.dump(rules));
    const findings = await runCli(['rules', 'check', '--rules', weaker, '--from', rawStore(), '--snapshot', '2026-01-09']);
    expect(findings.code).toBe(5);
    expect(findings.stderr).toMatch(/pmProject\.Members\[\]\.Email\b.*\(email\)/);
  });

  describe('refusals, each before anything is written', () => {
    it('a raw snapshot the coverage check refuses: nothing reaches the target, even when killed at the first batch', async () => {
      // Rules that keep members' emails wholesale: the check refuses only when the input ends.
      const rules = yaml.load(await readFile(rulesFile(), 'utf8')) as { rules: { pmProject: { fields: Record<string, unknown>; default?: unknown } } };
      delete rules.rules.pmProject.fields['Members[].Email'];
      rules.rules.pmProject.default = { transform: 'keep_subtree', reason: 'a careless default' };
      const careless = join(dir.path, 'careless-rules.yaml');
      await writeFile(careless, yaml.dump(rules));
      const target = prDb();
      targets.push(target);
      const args = ['restore', '--from', rawStore(), '--uri', mongodbUri(), '--target', target, '--rules', careless];
      const killed = await runCliWithFault(args, 'restore.load.batch:1', { env: KEY });
      expect(killedByFault(killed), killed.stderr).toBe(false);
      expect(killed.code, killed.stderr).toBe(5);
      // Only the restore's own lock (taken before the download); no data collection, temporary or final.
      expect((await collectionNames(client.db(target))).filter((name) => name !== '_syrf_restore_lock')).toEqual([]);
      const text = await allText(client.db(target));
      expect(seeded.pii.filter((value) => text.includes(value.toLowerCase()))).toEqual([]);
    });

    it('a raw snapshot without the key', async () => {
      const target = prDb();
      const result = await runCli(['restore', '--from', rawStore(), '--uri', mongodbUri(), '--target', target, '--rules', rulesFile()]);
      expect(result.code).toBe(3);
      expect(result.stderr).toMatch(/not anonymized/i);
      // The refusal is audited like any run.
      expect(result.stderr).toMatch(/"audit":true,"event":"restore".*"outcome":"failure"/);
      expect(await collectionNames(client.db(target))).toEqual([]);
    });

    it('a production target, the source database, and names outside the allowlist', async () => {
      for (const target of ['syrftest', source, 'somewhere_else']) {
        const result = await runCli(['restore', '--from', store(), '--uri', mongodbUri(), '--target', target]);
        expect(result.code, target).toBe(3);
        expect(result.stderr).toMatch(/^error: refusing to write into/m);
      }
    });

    it('staging without the confirmation word', async () => {
      const result = await runCli(['restore', '--from', store(), '--uri', mongodbUri(), '--target', 'syrf_staging']);
      expect(result.code).toBe(3);
      expect(result.stderr).toMatch(/--confirm refresh-staging/);
    });

    it('an archive that does not match its manifest checksum', async () => {
      const copy = tempDir();
      try {
        const url = `file://${copy.path}`;
        expect((await runCli(['snapshot', '--uri', mongodbUri(), '--db', source, '--to', url, '--id', '2026-01-10', '--anonymize', '--rules', rulesFile()], { env: KEY })).code).toBe(0);
        const dump = join(copy.path, 'prod', '2026-01-10', 'dump.gz');
        const bytes = await readFile(dump);
        bytes[bytes.length - 20]! ^= 0x01;
        await writeFile(dump, bytes);
        // Someone who can also rewrite the manifest names the new version: the checksum is what is left to catch it.
        const manifestPath = join(copy.path, 'prod', '2026-01-10', 'manifest.json');
        const edited = JSON.parse(await readFile(manifestPath, 'utf8')) as { archive: { generation?: string } };
        expect(edited.archive.generation).toBeDefined();
        edited.archive.generation = (await new FileStore(copy.path).stat('prod/2026-01-10/dump.gz'))!.generation;
        await writeFile(manifestPath, JSON.stringify(edited, null, 2));
        const target = prDb();
        // The full edition: a per-PR restore would read only preview.gz, which this does not touch.
        const result = await runCli(['restore', '--from', url, '--snapshot', '2026-01-10', '--uri', mongodbUri(), '--target', target, '--edition', 'full']);
        expect(result.code).toBe(4);
        expect(result.stderr).toMatch(/does not match its manifest: sha256/);
        expect(await collectionNames(client.db(target))).toEqual([]);
      } finally {
        copy.remove();
      }
    });

    it('an unknown snapshot id and an unknown collection', async () => {
      const unknownId = await runCli(['restore', '--from', store(), '--snapshot', '2025-12-31', '--uri', mongodbUri(), '--target', prDb()]);
      expect(unknownId.code).toBe(1);
      expect(unknownId.stderr).toMatch(/snapshot "2025-12-31" does not exist[\s\S]*complete snapshots: 2026-01-09/);
      const unknownCollection = await runCli(['restore', '--from', store(), '--uri', mongodbUri(), '--target', prDb(), '--collections', 'pmStudy,pmStduy']);
      expect(unknownCollection.code).toBe(2);
      expect(unknownCollection.stderr).toMatch(/has no collection "pmStduy"[\s\S]*available: pmDataExportJob, pmInvestigator, pmProject/);
    });
  });

  it('a restore killed midway leaves the previous data intact and no temporary collections after the next run', async () => {
    const target = prDb();
    targets.push(target);
    const first = await runCli(['restore', '--from', store(), '--uri', mongodbUri(), '--target', target, '--collections', 'pmInvestigator']);
    expect(first.code, first.stderr).toBe(0);
    const db = client.db(target);
    const before = await db.collection('pmInvestigator').find().sort({ _id: 1 }).toArray();

    // Killed while documents are being loaded, not before.
    const killed = await runCliWithFault(['restore', '--from', store(), '--uri', mongodbUri(), '--target', target], 'restore.load.batch:2');
    expect(killedByFault(killed), killed.stderr).toBe(true);

    expect(await db.collection('pmInvestigator').find().sort({ _id: 1 }).toArray()).toEqual(before);
    expect(await collectionNames(db)).not.toContain('pmStudy');

    // The killed run's lock is still there; its process is gone, so the next run takes it over at once.
    expect(await db.collection('_syrf_restore_lock').countDocuments()).toBe(1);
    const again = await runCli(['restore', '--from', store(), '--uri', mongodbUri(), '--target', target]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/dropped temporary collection .*_syrf_tmp_/);
    const names = await collectionNames(db);
    expect(names.filter((n) => n.startsWith('_syrf_tmp_'))).toEqual([]);
    expect(names).toEqual(expect.arrayContaining(['pmInvestigator', 'pmProject', 'pmStudy']));
  });

  it.skipIf(!isFerretDb() && !process.env.SYRF_TEST_ALLOW_STAGING)('refreshes staging with confirmation, then clones it into a preview', async () => {
    const refresh = await runCli(['restore', '--from', store(), '--uri', mongodbUri(), '--target', 'syrf_staging', '--confirm', 'refresh-staging', '--rules', rulesFile(), '--no-size-limits']);
    expect(refresh.code, refresh.stderr).toBe(0);
    targets.push('syrf_staging');
    const staging = client.db('syrf_staging');
    expect(await staging.collection('pmStudy').countDocuments()).toBe(seeded.counts.pmStudy);

    const target = prDb();
    targets.push(target);
    const clone = await runCli(['clone', '--uri', mongodbUri(), '--from', 'syrf_staging', '--target', target]);
    expect(clone.code, clone.stderr).toBe(0);
    for (const name of await collectionNames(staging)) {
      if (name.startsWith('_syrf')) continue;
      expect(await client.db(target).collection(name).countDocuments(), name).toBe(await staging.collection(name).countDocuments());
    }
    expect((await client.db(target).collection('pmStudy').indexes()).map((i) => i.name).sort()).toEqual(['ProjectId_1', 'ProjectId_1_Year_-1', '_id_']);

    const fromProd = await runCli(['clone', '--uri', mongodbUri(), '--from', 'syrftest', '--target', prDb()]);
    expect(fromProd.code).toBe(3);
    expect(fromProd.stderr).toMatch(/refusing to clone from "syrftest"/);
  });
});
