/**
 * `npx tsx bench/restore-scale.ts [--scale N] [--runs N]`: full restore
 * against `mongorestore --archive --gzip` at one (large) scale, for an
 * anonymized snapshot and for a raw one restored with the key, interleaved
 * (ours-anon, mongorestore-anon, ours-raw, mongorestore-raw, repeat) on
 * the same server, with the machine's load average before and after.
 * Separate from `npm run bench` because at 5× the default scale one round
 * takes minutes on FerretDB.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { loadRules } from '../runtime/anonymize/rules.js';
import { silentLogger } from '../runtime/ops/log.js';
import { restoreSnapshot } from '../runtime/restore/restore.js';
import { keyFingerprint } from '../runtime/snapshot/anonymization-stage.js';
import { FileStore } from '../runtime/store/file-store.js';
import { startIndexNsProxy } from '../test/support/index-ns-proxy.js';
import { datasetEvents, writeArchiveFile } from './archive-file.js';
import { DEFAULT_STUDIES, parseScale } from './args.js';
import { projectRoot } from './cli-commands.js';
import { benchDataset, totalDocuments } from './dataset.js';
import { anonymize } from './filter.js';
import { findMongoTools, mongorestoreArgs, runTool } from './mongo-tools.js';
import { isFerretDb, openBenchServer } from './server.js';
import { median, timeInterleaved, type Variant } from './stats.js';
import { BENCH_KEY } from './standalone.js';
import { publishArchive } from './store-snapshot.js';

const SOURCE_DB = 'syrf_bench';
const SNAPSHOT_ID = '2026-01-01-bench';
const log = (line: string) => process.stderr.write(`${line}\n`);
const load = () => loadavg().map((l) => l.toFixed(1)).join(' ');

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const option = (name: string) => {
    const at = argv.indexOf(name);
    return at >= 0 ? argv[at + 1] : undefined;
  };
  const studies = parseScale(option('--scale') ?? String(DEFAULT_STUDIES * 5));
  const runs = Number(option('--runs') ?? 3);
  const loadConcurrency = option('--load-concurrency') ? Number(option('--load-concurrency')) : undefined;
  const tools = await findMongoTools();
  if (!tools) throw new Error('mongorestore not found in $SYRF_MONGO_TOOLS_BIN or PATH: this bench compares against it');
  const work = await mkdtemp(join(tmpdir(), 'syrf-bench-restore-'));
  const key = Buffer.from(BENCH_KEY);
  const rules = await loadRules(join(projectRoot, 'rules/anonymization-rules.yaml'));
  try {
    const dataset = benchDataset({ studies });
    const raw = join(work, 'raw.archive.gz');
    const anon = join(work, 'anon.archive.gz');
    const bytes = await writeArchiveFile(datasetEvents(SOURCE_DB, dataset), raw, 6);
    await anonymize(raw, anon, rules, key, false);
    const stores = { raw: join(work, 'store-raw'), anon: join(work, 'store-anon') };
    await publishArchive(raw, stores.raw, SNAPSHOT_ID, null);
    await publishArchive(anon, stores.anon, SNAPSHOT_ID, { rulesSha256: rules.sha256, keyFingerprint: keyFingerprint(key) });
    const documents = totalDocuments(dataset);
    log(`restore-scale: ${studies} studies, ${documents} documents, ${(bytes / 2 ** 20).toFixed(0)} MiB of BSON; ${runs} interleaved rounds; ${tools.version}; load ${load()}`);

    const server = await openBenchServer();
    const client = new MongoClient(server.uri, { maxPoolSize: 16 });
    const proxy = await (async () => {
      await client.connect();
      return (await isFerretDb(client)) ? startIndexNsProxy(server.uri) : undefined;
    })();
    try {
      const drop = (db: string) => () => client.db(db).dropDatabase().then(() => undefined);
      const ours = (name: string, storeDir: string, withKey: boolean): Variant => ({
        name,
        prepare: drop('syrf_staging_bench'),
        run: async () => {
          await restoreSnapshot({
            store: new FileStore(storeDir),
            snapshot: SNAPSHOT_ID,
            client,
            target: 'syrf_staging_bench',
            edition: 'full',
            ...(withKey ? { rules, key, applySizeLimits: false } : {}),
            ...(loadConcurrency ? { loadConcurrency } : {}),
            holder: 'syrf-db-tools bench',
            logger: silentLogger,
            guard: { allowlist: [/^syrf_staging_bench$/] },
          });
        },
      });
      const theirs = (name: string, archive: string): Variant => ({
        name,
        prepare: drop('syrf_tools_bench'),
        run: async () => {
          await runTool(tools.mongorestore, mongorestoreArgs(proxy?.uri ?? server.uri, archive, SOURCE_DB, 'syrf_tools_bench'));
        },
      });
      const variants = [
        ours('syrf-db restore (anonymized snapshot)', stores.anon, false),
        theirs('mongorestore (anonymized archive)', anon),
        ours('syrf-db restore (raw snapshot + key)', stores.raw, true),
        theirs('mongorestore (raw archive)', raw),
      ];
      const timings = await timeInterleaved(variants, runs, (name, s) => log(`  ${name}: ${s.toFixed(1)} s (load ${load()})`));
      const summary = [...timings.values()].map((t) => ({ name: t.name, median: t.medianSeconds, min: Math.min(...t.seconds), max: Math.max(...t.seconds), seconds: t.seconds }));
      const ratio = (a: string, b: string) => timings.get(b)!.medianSeconds / timings.get(a)!.medianSeconds;
      const result = {
        studies,
        documents,
        uncompressedBytes: bytes,
        runs,
        tools: tools.version,
        loadAfter: load(),
        summary,
        ratios: {
          anonymized: ratio('syrf-db restore (anonymized snapshot)', 'mongorestore (anonymized archive)'),
          rawWithKey: ratio('syrf-db restore (raw snapshot + key)', 'mongorestore (raw archive)'),
        },
      };
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      log(`ratios (mongorestore seconds / ours, ≥ 1.0 is faster): anonymized ${result.ratios.anonymized.toFixed(2)}, raw+key ${result.ratios.rawWithKey.toFixed(2)}; medians ${summary.map((s) => `${s.name} ${median(s.seconds).toFixed(1)} s`).join(', ')}`);
    } finally {
      await proxy?.close();
      await client.close();
      await server.stop();
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  log(`error: ${(error as Error).message}`);
  process.exitCode = 1;
});
