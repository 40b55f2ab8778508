/**
 * Preview restores against production size: the same size limits applied to
 * snapshots of 1× and 10× the data, restored through the compiled CLI into
 * a per-PR database. With the preview edition (ranged reads of a
 * size-limited archive) the wall time and memory should stay flat; the
 * same measurement on a snapshot without a table of contents (what every
 * snapshot was before: download everything, subset while restoring) shows
 * what it cost before. Also: the bytes a `--collections pmProject,pmStudy`
 * restore reads, against those collections' ranges.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import yaml from 'js-yaml';
import type { MongoClient } from 'mongodb';
import { loadRules, type Rules } from '../runtime/anonymize/rules.js';
import { parseCollectionMetadata } from '../runtime/archive/metadata.js';
import { openArchive } from '../runtime/archive/reader.js';
import { silentLogger } from '../runtime/ops/log.js';
import { restoreSnapshot } from '../runtime/restore/restore.js';
import { captureAnonymization, keyFingerprint } from '../runtime/snapshot/anonymization-stage.js';
import { MANIFEST_VERSION, serializeManifest, type Manifest } from '../runtime/snapshot/manifest.js';
import { writePreviewEdition } from '../runtime/snapshot/preview-edition.js';
import { emptyTally, tallyEvents } from '../runtime/snapshot/tally.js';
import { partsOf } from '../runtime/snapshot/toc.js';
import { writeArchiveToStore } from '../runtime/snapshot/write-archive.js';
import { writeAddressableArchiveToStore } from '../runtime/snapshot/write-addressable.js';
import { FileStore } from '../runtime/store/file-store.js';
import { LATEST_KEY, formatLatest, snapshotKeys } from '../runtime/store/layout.js';
import { CountingStore } from '../test/support/counting-store.js';
import { BENCH_SERVER_VERSION, datasetEvents } from './archive-file.js';
import type { Cli } from './cli-commands.js';
import { benchDataset } from './dataset.js';
import { measurePeakRss, type PeakRss } from './peak-rss.js';
import { median } from './stats.js';

const ID = '2026-01-02-preview';
const TARGET = 'syrf_pr_9004';
/**
 * The project's rules with limits that already cut the 1× data, so 1× and 10× previews are the same
 * size; pmInvestigator keeps the shipped rule (it follows the kept projects' members).
 */
const LIMITS = { pmProject: { max_documents: 20 }, pmStudy: { max_documents: 250, follows: { collection: 'pmProject', field: 'ProjectId' } } };
export const PREVIEW_TARGETS = { timeRatio: 1.2, bytesRatio: 1.1, rssMiB: 256 } as const;

export interface PreviewBenchInput {
  client: MongoClient;
  uri: string;
  work: string;
  projectRoot: string;
  key: Buffer;
  /** Studies at 1×. */
  studies: number;
  runs: number;
  cli: Cli;
  log: (line: string) => void;
}

interface Timed {
  seconds: number[];
  peaks: number[];
}

export interface PreviewBenchResult {
  studies: { one: number; ten: number };
  preview: { one: Timed; ten: Timed };
  today: { one: Timed; ten: Timed };
  bytes: { served: number; ranges: number; prelude: number; previewFile: number; dumpFile: number };
  sizes: { previewOne: number; previewTen: number; dumpOne: number; dumpTen: number };
}

export async function benchPreviewEditions(input: PreviewBenchInput): Promise<PreviewBenchResult> {
  const rulesPath = join(input.work, 'rules-preview.yaml');
  const projectRules = yaml.load(await readFile(join(input.projectRoot, 'rules/anonymization-rules.yaml'), 'utf8')) as { size_limits: Record<string, unknown> };
  projectRules.size_limits = { ...projectRules.size_limits, ...LIMITS };
  await writeFile(rulesPath, yaml.dump(projectRules));
  const rules = await loadRules(rulesPath);

  const studies = { one: input.studies, ten: input.studies * 10 };
  const stores = { one: join(input.work, 'preview-1x'), ten: join(input.work, 'preview-10x'), oldOne: join(input.work, 'today-1x'), oldTen: join(input.work, 'today-10x') };
  const made = {
    one: await publishAddressable(studies.one, stores.one, stores.oldOne, rules, input),
    ten: await publishAddressable(studies.ten, stores.ten, stores.oldTen, rules, input),
  };

  const env = { ...process.env };
  delete env.SYRF_ANONYMIZATION_KEY; // previews have no key
  const restore = (store: string): Promise<PeakRss> =>
    measurePeakRss({ nodeOptions: input.cli.nodeOptions, argv: [input.cli.main, '--quiet', 'restore', '--from', `file://${store}`, '--snapshot', ID, '--uri', input.uri, '--target', TARGET, '--rules', rulesPath] }, env, input.projectRoot);
  const variants = { previewOne: stores.one, previewTen: stores.ten, todayOne: stores.oldOne, todayTen: stores.oldTen } as const;
  const timings = Object.fromEntries(Object.keys(variants).map((k) => [k, { seconds: [] as number[], peaks: [] as number[] }])) as Record<keyof typeof variants, Timed>;
  for (let run = 0; run < input.runs; run++) {
    // Interleaved, so a busy moment of a shared machine hits every variant alike.
    for (const [name, store] of Object.entries(variants) as Array<[keyof typeof variants, string]>) {
      await input.client.db(TARGET).dropDatabase();
      const peak = await restore(store);
      timings[name].seconds.push(peak.seconds);
      timings[name].peaks.push(peak.maxRssMiB);
      input.log(`  ${name} run ${run + 1}: ${peak.seconds.toFixed(1)} s, ${peak.maxRssMiB.toFixed(0)} MiB`);
    }
  }

  // Bytes read by a two-collection preview restore, counted at the store.
  await input.client.db(TARGET).dropDatabase();
  const counting = new CountingStore(new FileStore(stores.ten));
  await restoreSnapshot({ store: counting, snapshot: ID, client: input.client, target: TARGET, collections: ['pmProject', 'pmStudy'], holder: 'bench', logger: silentLogger });
  await input.client.db(TARGET).dropDatabase();
  const toc = made.ten.preview!.toc;
  const ranges = [...partsOf(toc, 'pmProject'), ...partsOf(toc, 'pmStudy')].reduce((sum, p) => sum + p.length, 0);

  return {
    studies,
    preview: { one: timings.previewOne, ten: timings.previewTen },
    today: { one: timings.todayOne, ten: timings.todayTen },
    bytes: { served: counting.bytesServed, ranges, prelude: toc.prelude.length, previewFile: made.ten.preview!.sizeBytes, dumpFile: made.ten.archive.sizeBytes },
    sizes: { previewOne: made.one.preview!.sizeBytes, previewTen: made.ten.preview!.sizeBytes, dumpOne: made.one.archive.sizeBytes, dumpTen: made.ten.archive.sizeBytes },
  };
}

/** An anonymized, collection-addressable snapshot with its preview edition, and the same data as a snapshot of before (one gzip stream, no TOC, no preview). */
async function publishAddressable(studies: number, dir: string, oldDir: string, rules: Rules, input: PreviewBenchInput): Promise<Manifest> {
  const started = Date.now();
  const store = new FileStore(dir);
  const keys = snapshotKeys(ID);
  const tally = emptyTally();
  const anonymized = captureAnonymization(rules, input.key, silentLogger).transform(datasetEvents('syrf_bench', benchDataset({ studies })));
  const written = await writeAddressableArchiveToStore(tallyEvents(anonymized, tally), store, keys.dump);
  const preview = await writePreviewEdition(store, ID, rules, { logger: silentLogger });
  const now = new Date().toISOString();
  const manifest: Manifest = {
    manifestVersion: MANIFEST_VERSION,
    id: ID,
    createdAt: now,
    completedAt: now,
    durationSeconds: 0,
    source: { db: 'syrf_bench', hosts: [], serverVersion: BENCH_SERVER_VERSION },
    tool: { name: 'syrf-db-tools', version: 'bench' },
    archive: { file: 'dump.gz', format: 'mongodump-archive', compression: 'gzip', sizeBytes: written.sizeBytes, sha256: written.sha256, uncompressedBytes: tally.bytes, toc: written.toc },
    collections: tally.namespaces.map((ns) => ({
      name: ns.collection,
      type: 'collection' as const,
      documents: tally.collections.get(ns.collection)?.documents ?? 0,
      bytes: tally.collections.get(ns.collection)?.bytes ?? 0,
      indexes: parseCollectionMetadata(ns.metadata).indexes as Record<string, unknown>[],
      options: {},
      schemaVersions: [],
    })),
    excludedCollections: [],
    anonymization: { anonymized: true, rulesSha256: rules.sha256, keyFingerprint: keyFingerprint(input.key), sizeLimitsApplied: false },
    preview,
  };
  await store.write(keys.manifest, serializeManifest(manifest));
  await store.write(LATEST_KEY, formatLatest(ID));

  const old = new FileStore(oldDir);
  const single = await writeArchiveToStore(openArchive(await store.read(keys.dump)), old, keys.dump);
  const { toc: _toc, ...archive } = manifest.archive;
  const { preview: _preview, ...rest } = manifest;
  await old.write(keys.manifest, serializeManifest({ ...rest, archive: { ...archive, sizeBytes: single.sizeBytes, sha256: single.sha256 } }));
  await old.write(LATEST_KEY, formatLatest(ID));
  input.log(`  ${studies} studies: dump.gz ${(written.sizeBytes / 2 ** 20).toFixed(1)} MiB, preview.gz ${(preview.sizeBytes / 2 ** 20).toFixed(2)} MiB, made in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return manifest;
}

/** Table rows (measurement, ours, baseline, ratio, target, result); lower ratios are better here. */
export function previewRows(result: PreviewBenchResult | null, unavailable?: string): { cells: string[][]; failed: string[] } {
  const labels = ['preview restore wall time, 10× vs 1× data', 'today (whole file + subset), 10× vs 1× data', 'bytes read, preview --collections pmProject,pmStudy', 'peak RSS preview restore, 10× vs 1× data'];
  if (!result) return { cells: labels.map((label) => [label, 'n/a', 'n/a', unavailable ?? 'n/a', '', 'n/a']), failed: [] };
  const failed: string[] = [];
  const verdict = (label: string, ok: boolean) => {
    if (!ok) failed.push(label);
    return ok ? 'PASS' : 'FAIL';
  };
  const p1 = median(result.preview.one.seconds);
  const p10 = median(result.preview.ten.seconds);
  const t1 = median(result.today.one.seconds);
  const t10 = median(result.today.ten.seconds);
  const bytesRatio = result.bytes.served / result.bytes.ranges;
  const rss1 = Math.max(...result.preview.one.peaks);
  const rss10 = Math.max(...result.preview.ten.peaks);
  return {
    cells: [
      [labels[0]!, `10×: ${p10.toFixed(1)} s`, `1×: ${p1.toFixed(1)} s`, `${(p10 / p1).toFixed(2)}×`, `≤ ${PREVIEW_TARGETS.timeRatio}×`, verdict(labels[0]!, p10 / p1 <= PREVIEW_TARGETS.timeRatio)],
      [labels[1]!, `10×: ${t10.toFixed(1)} s`, `1×: ${t1.toFixed(1)} s`, `${(t10 / t1).toFixed(2)}×`, '—', 'info'],
      [labels[2]!, `${result.bytes.served} B`, `the two ranges: ${result.bytes.ranges} B`, `${bytesRatio.toFixed(3)}×`, `≤ ${PREVIEW_TARGETS.bytesRatio}×`, verdict(labels[2]!, bytesRatio <= PREVIEW_TARGETS.bytesRatio)],
      [labels[3]!, `10×: ${rss10.toFixed(0)} MiB`, `1×: ${rss1.toFixed(0)} MiB`, `${(rss10 / rss1).toFixed(2)}×`, `< ${PREVIEW_TARGETS.rssMiB} MiB, flat`, verdict(labels[3]!, rss10 < PREVIEW_TARGETS.rssMiB && rss10 <= rss1 * 1.25)],
    ],
    failed,
  };
}
