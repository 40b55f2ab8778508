/**
 * `npm run bench`: measures the pipeline against its physical floor and
 * against mongo-tools, in one run on one machine, and writes
 * bench/results.json and bench/results.md. See docs/benchmark.md.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { loadRules, parseRules } from '../runtime/anonymize/rules.js';
import { keyFingerprint } from '../runtime/snapshot/anonymization-stage.js';
import { datasetEvents, writeArchiveFile } from './archive-file.js';
import { parseBenchArgs, USAGE } from './args.js';
import { anonymizeCommand, compiledCli, projectRoot, restoreCommand } from './cli-commands.js';
import { benchDataset, totalDocuments } from './dataset.js';
import { anonymize } from './filter.js';
import { FILTER_VARIANTS, benchFilters, type FilterBenchResult } from './filter-bench.js';
import { describeMachine } from './machine.js';
import { findMongoTools, type MongoTools } from './mongo-tools.js';
import { measurePeakRss, type PeakRss } from './peak-rss.js';
import { formatMarkdownTable, formatTerminalTable, tableRows } from './report.js';
import { benchRestore, benchSnapshot, type ThroughputResult } from './server-bench.js';
import { isFerretDb, openBenchServer, seedBenchDatabase } from './server.js';
import { mib } from './stats.js';
import { BENCH_KEY } from './standalone.js';
import { publishArchive } from './store-snapshot.js';
import { benchPreviewEditions, previewRows, type PreviewBenchResult } from './preview-bench.js';
import { ratioRow, rssRow, TARGETS, type RatioRow, type RssRow } from './targets.js';

const SOURCE_DB = 'syrf_bench';
const GZIP_LEVEL = 6;
const SNAPSHOT_ID = '2026-01-01-bench';
const RSS_TARGET_DB = 'syrf_pr_9003';

const log = (line: string) => process.stderr.write(`${line}\n`);

async function main(): Promise<void> {
  const args = parseBenchArgs(process.argv.slice(2));
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const started = Date.now();
  const machine = describeMachine();
  const work = await mkdtemp(join(tmpdir(), 'syrf-bench-'));
  log(`bench: ${args.studies} studies, ${args.runs} runs per filter measurement and ${args.serverRuns} per server one, on ${machine.nproc} × ${machine.cpuModel}, node ${machine.node}; files in ${work}`);
  try {
    const phase = timer();
    const oneX = benchDataset({ studies: args.studies });
    const fourX = benchDataset({ studies: args.studies * 4 });
    const raw = { one: join(work, 'raw-1x.archive.gz'), four: join(work, 'raw-4x.archive.gz') };
    const rawBytes = {
      one: await writeArchiveFile(datasetEvents(SOURCE_DB, oneX), raw.one, GZIP_LEVEL),
      four: await writeArchiveFile(datasetEvents(SOURCE_DB, fourX), raw.four, GZIP_LEVEL),
    };
    const rules = {
      project: await loadRules(join(projectRoot, 'rules/anonymization-rules.yaml')),
      everyDocument: await loadRules(join(projectRoot, 'bench/rules-every-document.yaml')),
      none: parseRules('version: 1\n', 'pass-through (no rules)'),
    };
    const key = Buffer.from(BENCH_KEY);
    // Restores read anonymized snapshots (raw ones are refused): make one per scale, untimed.
    const anon = { one: join(work, 'anon-1x.archive.gz'), four: join(work, 'anon-4x.archive.gz') };
    const stores = { one: join(work, 'store-1x'), four: join(work, 'store-4x') };
    const published = { rulesSha256: rules.project.sha256, keyFingerprint: keyFingerprint(key) };
    await anonymize(raw.one, anon.one, rules.project, key, false);
    await anonymize(raw.four, anon.four, rules.project, key, false);
    const restoredDocuments = totalOf(await publishArchive(anon.one, stores.one, SNAPSHOT_ID, published));
    await publishArchive(anon.four, stores.four, SNAPSHOT_ID, published);
    log(`data: ${totalDocuments(oneX)} documents, ${mib(rawBytes.one).toFixed(0)} MiB of BSON (4×: ${mib(rawBytes.four).toFixed(0)} MiB), generated in ${phase()} s`);

    log('anonymize / pass-through vs gunzip | gzip and bson:');
    const filters = await benchFilters({ archive: raw.one, gzipLevel: GZIP_LEVEL, rules, key, runs: args.runs, workDir: work, log });

    let server: Awaited<ReturnType<typeof openBenchServer>> | undefined;
    let tools: MongoTools | undefined;
    let snapshot: ThroughputResult | null = null;
    let restore: ThroughputResult | null = null;
    let memory: { anonymize: ScalePeaks; restore: ScalePeaks } | null = null;
    let via = { anonymize: { via: 'not run' }, restore: { via: 'not run' } };
    let preview: PreviewBenchResult | null = null;
    if (!args.filtersOnly) {
      server = await openBenchServer();
      const client = new MongoClient(server.uri, { maxPoolSize: 16 });
      try {
        await client.connect();
        tools = await findMongoTools();
        log(`server: ${server.description}; mongo-tools: ${tools ? `${tools.mongodump} (${tools.version})` : 'not installed'}`);
        const seeding = timer();
        const seeded = await seedBenchDatabase(client.db(SOURCE_DB), oneX);
        log(`seeded ${SOURCE_DB} with ${seeded} documents in ${seeding()} s`);
        const serverInput = { client, uri: server.uri, isFerretDb: await isFerretDb(client), sourceDb: SOURCE_DB, tools, runs: args.serverRuns, workDir: work, log };
        log('snapshot vs mongodump:');
        snapshot = await benchSnapshot(serverInput, seeded);
        log('restore vs mongorestore:');
        restore = await benchRestore({ ...serverInput, storeDir: stores.one, snapshotId: SNAPSHOT_ID, archive: anon.one, documents: restoredDocuments });
        if (restore.error) log(`  ${restore.error}`);
        const cli = compiledCli();
        const commands = { anonymize: anonymizeCommand(cli), restore: restoreCommand(cli) };
        via = commands;
        log(`peak RSS (anonymize via ${commands.anonymize.via}, restore via ${commands.restore.via}):`);
        const env = { ...process.env, SYRF_ANONYMIZATION_KEY: BENCH_KEY };
        const rulesPath = join(projectRoot, 'rules/anonymization-rules.yaml');
        const dropTarget = () => client.db(RSS_TARGET_DB).dropDatabase().then(() => undefined);
        memory = {
          anonymize: await peaksAtBothScales((scale) => measurePeakRss(commands.anonymize.build(rulesPath, raw[scale], join(work, `rss-${scale}.archive.gz`)), env, projectRoot)),
          restore: await peaksAtBothScales(async (scale) => {
            await dropTarget();
            return measurePeakRss(commands.restore.build(`file://${stores[scale]}`, SNAPSHOT_ID, server!.uri, RSS_TARGET_DB), env, projectRoot);
          }),
        };
        await dropTarget();
        log('preview edition: restore at 1× and 10× the data (1× = a quarter of --scale), same size limits:');
        preview = await benchPreviewEditions({ client, uri: server.uri, work, projectRoot, key, studies: Math.max(100, Math.round(args.studies / 4)), runs: args.serverRuns, cli, log });
        await client.db(SOURCE_DB).dropDatabase();
      } finally {
        await client.close();
        await server.stop();
      }
    }

    const ratios = ratioRows(filters, snapshot, restore, tools, args.filtersOnly);
    const memoryRows = rssRows(memory, via, args.filtersOnly);
    const previewTable = previewRows(preview, args.filtersOnly ? 'n/a (--filters-only)' : undefined);
    const rows = [...tableRows(ratios, memoryRows), ...previewTable.cells];
    const results = {
      generatedAt: new Date().toISOString(),
      machine,
      server: server?.description ?? null,
      mongoTools: tools?.version ?? null,
      scale: {
        studies: args.studies,
        documents: totalDocuments(oneX),
        archiveBytes: filters.inputBytes,
        uncompressedBytes: rawBytes.one,
        fourTimesUncompressedBytes: rawBytes.four,
      },
      runs: { filters: args.runs, server: args.serverRuns },
      gzipLevel: GZIP_LEVEL,
      ratios,
      memory: memoryRows,
      timings: {
        filters: Object.fromEntries([...filters.timings].map(([name, t]) => [name, t.seconds])),
        snapshot: snapshot && { documents: snapshot.documents, ours: snapshot.ours?.seconds ?? null, mongodump: snapshot.tools?.seconds ?? null },
        restore: restore && { documents: restore.documents, ours: restore.ours?.seconds ?? null, mongorestore: restore.tools?.seconds ?? null, error: restore.error ?? null },
        peakRss: memory,
        preview,
      },
      totalSeconds: (Date.now() - started) / 1000,
    };
    await writeResults(results, rows, machine);
    process.stdout.write(`\n${formatTerminalTable(rows)}\n\n`);
    const failed = [...[...ratios, ...memoryRows].filter((row) => row.status === 'fail').map((row) => row.label), ...previewTable.failed];
    process.stdout.write(failed.length ? `targets not met: ${failed.join('; ')}\n` : 'all measured targets met\n');
    log(`bench finished in ${results.totalSeconds.toFixed(0)} s; results in bench/results.json and bench/results.md`);
  } finally {
    if (args.keepFiles) log(`kept ${work}`);
    else await rm(work, { recursive: true, force: true });
  }
}

type Scale = 'one' | 'four';
interface ScalePeaks {
  one: PeakRss | { error: string };
  four: PeakRss | { error: string };
}

async function peaksAtBothScales(measure: (scale: Scale) => Promise<PeakRss>): Promise<ScalePeaks> {
  const attempt = async (scale: Scale) => {
    try {
      const peak = await measure(scale);
      log(`  ${scale === 'one' ? '1×' : '4×'}: ${peak.maxRssMiB.toFixed(0)} MiB (${peak.seconds.toFixed(1)} s, ${peak.method})`);
      return peak;
    } catch (error) {
      const message = (error as Error).message;
      log(`  ${scale === 'one' ? '1×' : '4×'}: failed: ${message}`);
      return { error: message.split('\n')[0] ?? message };
    }
  };
  return { one: await attempt('one'), four: await attempt('four') };
}

function totalOf(manifest: { collections: Array<{ documents: number }> }): number {
  return manifest.collections.reduce((sum, c) => sum + c.documents, 0);
}

function timer(): () => string {
  const start = Date.now();
  return () => ((Date.now() - start) / 1000).toFixed(1);
}

const MB = 1e6;
type Baseline = RatioRow['baseline'];

function ratioRows(filters: FilterBenchResult, snapshot: ThroughputResult | null, restore: ThroughputResult | null, tools: MongoTools | undefined, filtersOnly: boolean): RatioRow[] {
  const mbPerSecond = (name: string) => {
    const timing = filters.timings.get(name);
    return timing ? filters.inputBytes / MB / timing.medianSeconds : null;
  };
  const floor: Baseline = { name: FILTER_VARIANTS.floor, value: mbPerSecond(FILTER_VARIANTS.floor) };
  const bson: Baseline = { name: FILTER_VARIANTS.bson, value: mbPerSecond(FILTER_VARIANTS.bson) };
  const filterRow = (id: string, variant: string, baseline: Baseline, target: number | null) =>
    ratioRow({ id, label: variant, unit: 'MB/s', subject: { name: variant, value: mbPerSecond(variant) }, baseline, target });
  const noTools = tools ? undefined : 'n/a (mongo-tools not installed)';
  const skipped = filtersOnly ? 'n/a (--filters-only)' : undefined;
  const docsPerSecond = (result: ThroughputResult | null, which: 'ours' | 'tools') => {
    const timing = result?.[which];
    return timing && result ? result.documents / timing.medianSeconds : null;
  };
  return [
    filterRow('anonymize-vs-floor', FILTER_VARIANTS.anonymize, floor, TARGETS.anonymizeVsFloor),
    filterRow('anonymize-vs-bson', FILTER_VARIANTS.anonymize, bson, null),
    filterRow('every-document-vs-floor', FILTER_VARIANTS.everyDocument, floor, null),
    filterRow('every-document-vs-bson', FILTER_VARIANTS.everyDocument, bson, null),
    filterRow('pass-through-vs-floor', FILTER_VARIANTS.passThrough, floor, TARGETS.passThroughVsFloor),
    ratioRow({
      id: 'snapshot-vs-mongodump',
      label: 'snapshot (dump + verify)',
      unit: 'docs/s',
      subject: { name: 'syrf-db snapshot', value: docsPerSecond(snapshot, 'ours') },
      baseline: { name: 'mongodump --archive --gzip', value: docsPerSecond(snapshot, 'tools') },
      target: TARGETS.snapshotVsMongodump,
      unavailable: skipped ?? noTools,
    }),
    ratioRow({
      id: 'restore-vs-mongorestore',
      label: 'restore',
      unit: 'docs/s',
      subject: { name: 'syrf-db restore', value: docsPerSecond(restore, 'ours') },
      baseline: { name: 'mongorestore --archive --gzip --drop', value: docsPerSecond(restore, 'tools') },
      target: TARGETS.restoreVsMongorestore,
      unavailable: skipped ?? restore?.error ?? noTools,
    }),
  ];
}

function rssRows(memory: { anonymize: ScalePeaks; restore: ScalePeaks } | null, via: { anonymize: { via: string }; restore: { via: string } }, filtersOnly: boolean): RssRow[] {
  const peak = (p: PeakRss | { error: string } | undefined) => (p && 'maxRssMiB' in p ? p.maxRssMiB : null);
  const error = (peaks: ScalePeaks | undefined) => {
    const failed = [peaks?.one, peaks?.four].find((p): p is { error: string } => Boolean(p && 'error' in p));
    return failed ? `failed: ${failed.error.slice(0, 120)}` : undefined;
  };
  const row = (id: 'anonymize' | 'restore') =>
    rssRow({
      id: `peak-rss-${id}`,
      label: `peak RSS ${id} (${via[id].via})`,
      defaultMiB: peak(memory?.[id].one),
      fourTimesMiB: peak(memory?.[id].four),
      ...(filtersOnly ? { unavailable: 'n/a (--filters-only)' } : error(memory?.[id]) ? { unavailable: error(memory?.[id])! } : {}),
    });
  return [row('anonymize'), row('restore')];
}

async function writeResults(results: object, rows: string[][], machine: ReturnType<typeof describeMachine>): Promise<void> {
  const dir = join(projectRoot, 'bench');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  const markdown = [
    '# Benchmark results',
    '',
    `${new Date().toISOString()} — ${machine.nproc} × ${machine.cpuModel}, node ${machine.node}, ${machine.memoryMiB} MiB RAM. Ratios are ours ÷ baseline (higher is better), medians of the timed runs. How to read and reproduce: docs/benchmark.md.`,
    '',
    formatMarkdownTable(rows),
    '',
  ].join('\n');
  await writeFile(join(dir, 'results.md'), markdown);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
