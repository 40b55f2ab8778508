/**
 * Where `rules check` and `rules preview` get their sample: a live database,
 * an archive file, or a stored snapshot.
 */
import { createReadStream } from 'node:fs';
import { openArchive } from '../archive/index.js';
import { ExitCode, UserError } from '../errors.js';
import { connectMongo } from '../mongo/connect.js';
import { openStore } from '../store/open.js';
import { snapshotKeys } from '../store/layout.js';
import { resolveSnapshotId } from '../snapshot/catalog.js';
import type { ArchiveEvent } from '../archive/types.js';
import { checkedEvents, type CheckStageOptions } from '../anonymize/check-stage.js';
import { checkCoverage, type CoverageReport } from '../anonymize/coverage.js';
import type { Rules } from '../anonymize/rules.js';
import { sampleArchive, sampleDatabase, type CollectionSample, type SampleOptions } from '../anonymize/sample.js';

export type SampleSource =
  | { kind: 'database'; uri: string; db: string }
  | { kind: 'archive'; path: string }
  | { kind: 'snapshot'; store: string; id: string };

export function describeSource(source: SampleSource): string {
  if (source.kind === 'database') return `database ${source.db}`;
  if (source.kind === 'archive') return `archive ${source.path}`;
  return `snapshot ${source.id} in ${source.store}`;
}

/** Exactly one of --uri/--db, --archive, --from/--snapshot. */
export function chooseSource(opts: { uri?: string; db?: string; archive?: string; from?: string; snapshot?: string }): SampleSource {
  const given = [opts.uri !== undefined || opts.db !== undefined, opts.archive !== undefined, opts.from !== undefined || opts.snapshot !== undefined];
  if (given.filter(Boolean).length !== 1) {
    throw new UserError('say where to sample from: --uri URI --db NAME, --archive PATH, or --from STORE --snapshot ID (exactly one)', {
      exitCode: ExitCode.usage,
    });
  }
  if (given[0]) {
    if (!opts.uri || !opts.db) throw new UserError('--uri and --db go together', { exitCode: ExitCode.usage });
    return { kind: 'database', uri: opts.uri, db: opts.db };
  }
  if (given[1]) return { kind: 'archive', path: opts.archive! };
  if (!opts.from || !opts.snapshot) throw new UserError('--from and --snapshot go together', { exitCode: ExitCode.usage });
  return { kind: 'snapshot', store: opts.from, id: opts.snapshot };
}

/** The coverage report for a source; archives and snapshots are streamed, so `sample: 'all'` needs no memory per document. */
export async function checkSource(source: SampleSource, rules: Rules, options: CheckStageOptions): Promise<CoverageReport> {
  let report: CoverageReport | null = null;
  const onReport = (r: CoverageReport) => (report = r);
  if (source.kind === 'database') {
    const samples = await loadSamples(source, rules, { size: options.sample ?? 'all', ...(options.collections ? { collections: [...options.collections] } : {}) });
    return checkCoverage(rules, samples, options);
  }
  await withArchive(source, async (events) => {
    for await (const _ of checkedEvents(events, rules, { ...options, refuse: false, onReport })) void _;
  });
  return report!;
}

/** The archive events of a file or a stored snapshot, closed afterwards. */
export async function withArchive<T>(source: Exclude<SampleSource, { kind: 'database' }>, use: (events: AsyncIterable<ArchiveEvent>) => Promise<T>): Promise<T> {
  if (source.kind === 'archive') {
    const input = createReadStream(source.path);
    try {
      return await use(openArchive(input, { source: source.path }));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new UserError(`archive ${source.path} does not exist`, { exitCode: ExitCode.usage, cause: error });
      }
      throw error;
    } finally {
      input.destroy();
    }
  }
  const store = openStore(source.store);
  const key = snapshotKeys(await resolveSnapshotId(store, source.id)).dump;
  const input = await store.read(key);
  try {
    return await use(openArchive(input, { source: store.describe(key) }));
  } finally {
    input.destroy();
  }
}

export async function loadSamples(source: SampleSource, rules: Rules | null, options: SampleOptions): Promise<CollectionSample[]> {
  if (source.kind === 'database') {
    const client = await connectMongo(source.uri);
    try {
      const samples: CollectionSample[] = [];
      for await (const sample of sampleDatabase(client.db(source.db), rules, options)) samples.push(sample);
      return samples;
    } finally {
      await client.close();
    }
  }
  return withArchive(source, (events) => sampleArchive(events, rules, options));
}
