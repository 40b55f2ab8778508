/** Phase 1 of the bench: anonymize and pass-through against recompression and a BSON round trip. */
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Rules } from '../runtime/anonymize/rules.js';
import { anonymize, archiveDocuments, bsonRoundTrip, recompress } from './filter.js';
import { timeInterleaved, type Timing, type Variant } from './stats.js';

export interface FilterBenchInput {
  archive: string;
  gzipLevel: number;
  rules: { project: Rules; everyDocument: Rules; none: Rules };
  key: Buffer;
  runs: number;
  workDir: string;
  log: (line: string) => void;
}

export interface FilterBenchResult {
  /** Size of the gzip archive every variant reads: the MB/s numerator. */
  inputBytes: number;
  timings: Map<string, Timing>;
}

export const FILTER_VARIANTS = {
  floor: 'gunzip | gzip',
  bson: 'bson deserialize+serialize',
  anonymize: 'anonymize (project rules)',
  everyDocument: 'anonymize (every document re-encoded)',
  passThrough: 'pass-through (no rules)',
} as const;

export async function benchFilters(input: FilterBenchInput): Promise<FilterBenchResult> {
  const inputBytes = (await stat(input.archive)).size;
  const documents = await archiveDocuments(input.archive);
  const output = (name: string) => join(input.workDir, `filter-${name}.archive.gz`);
  const fileVariant = (name: string, run: (out: string) => Promise<void>): Variant => ({
    name,
    prepare: () => rm(output(name.replace(/\W+/g, '-')), { force: true }),
    run: () => run(output(name.replace(/\W+/g, '-'))),
  });
  // Size limits off, as at capture: every kept document flows through, so the throughput is the filter's own.
  const variants: Variant[] = [
    fileVariant(FILTER_VARIANTS.floor, (out) => recompress(input.archive, out, input.gzipLevel)),
    { name: FILTER_VARIANTS.bson, run: async () => void bsonRoundTrip(documents) },
    fileVariant(FILTER_VARIANTS.anonymize, (out) => anonymize(input.archive, out, input.rules.project, input.key, false)),
    fileVariant(FILTER_VARIANTS.everyDocument, (out) => anonymize(input.archive, out, input.rules.everyDocument, input.key, false)),
    // Without a key nothing is transformed: the already-anonymized path restores take. With a key, unnamed collections are refused.
    fileVariant(FILTER_VARIANTS.passThrough, (out) => anonymize(input.archive, out, input.rules.none, null, false)),
  ];
  const timings = await timeInterleaved(variants, input.runs, (name, s) => input.log(`  ${name}: ${s.toFixed(2)} s`));
  for (const variant of variants) await variant.prepare?.();
  return { inputBytes, timings };
}
