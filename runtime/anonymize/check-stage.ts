/**
 * The coverage check as a stage of the anonymization pipeline, so that every
 * path that anonymizes (`syrf-db anonymize`, `snapshot --anonymize`, a
 * restore that anonymizes a raw snapshot) runs it without being asked.
 *
 * Events pass through unchanged while documents are read; the verdict comes
 * when the input ends, and a failed check throws before the consumer has
 * seen the end of the input, so nothing downstream (an atomic file write, a
 * snapshot upload, a restore's swap) can complete. `sample: 'all'` reads
 * every document; a number keeps a uniform reservoir sample per collection.
 */
import type { ArchiveEvent } from '../archive/types.js';
import { silentLogger, type Logger } from '../ops/log.js';
import { CoverageChecker, refuseOnFindings, type CheckOptions, type CoverageReport } from './coverage.js';
import type { Rules } from './rules.js';

export type SampleSize = number | 'all';

export interface CheckStageOptions extends CheckOptions {
  /** Documents read per collection (default 'all'). */
  sample?: SampleSize;
  logger?: Logger;
  /** Called with the report before the verdict (e.g. to print it). */
  onReport?: (report: CoverageReport) => void;
  /** False: report only (`rules check`); the default true throws when there are findings. */
  refuse?: boolean;
  /** Uniform [0, 1) numbers for sampling; Math.random by default. */
  random?: () => number;
}

export async function* checkedEvents(events: AsyncIterable<ArchiveEvent>, rules: Rules, options: CheckStageOptions = {}): AsyncGenerator<ArchiveEvent> {
  const sample = options.sample ?? 'all';
  const random = options.random ?? Math.random;
  const checker = new CoverageChecker(rules, options);
  const reservoirs = new Map<string, { seen: number; documents: Buffer[] }>();
  for await (const event of events) {
    if (event.type === 'prelude') {
      for (const ns of event.namespaces) checker.namespace(ns.collection, ns.type);
    } else if (event.type === 'segment' && checker.wants(event.collection)) {
      checker.counted(event.collection, event.documents.length);
      if (sample === 'all') {
        for (const document of event.documents) checker.document(event.collection, document);
      } else {
        let reservoir = reservoirs.get(event.collection);
        if (!reservoir) reservoirs.set(event.collection, (reservoir = { seen: 0, documents: [] }));
        for (const document of event.documents) offer(reservoir, document, sample, random);
      }
    }
    yield event;
  }
  for (const [collection, reservoir] of reservoirs) for (const document of reservoir.documents) checker.document(collection, document);
  const report = checker.finish({ fullyScanned: (c) => sample === 'all' || (reservoirs.get(c)?.seen ?? 0) <= sample });
  options.onReport?.(report);
  for (const warning of report.warnings) (options.logger ?? silentLogger).warn(`coverage check: ${warning}`);
  if (options.refuse !== false) refuseOnFindings(report, rules.fileName);
}

/** Reservoir sampling (Algorithm R): every document of the collection is equally likely to be kept. */
export function offer(reservoir: { seen: number; documents: Buffer[] }, document: Buffer, size: number, random: () => number): void {
  reservoir.seen++;
  // Copies: the reader's documents are views of large input chunks.
  if (reservoir.documents.length < size) reservoir.documents.push(Buffer.from(document));
  else {
    const slot = Math.floor(random() * reservoir.seen);
    if (slot < size) reservoir.documents[slot] = Buffer.from(document);
  }
}

/** `--sample` values: a positive count or `all`. */
export function parseSampleSize(text: string): SampleSize {
  if (text.trim().toLowerCase() === 'all') return 'all';
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`expected a positive number or "all", got "${text}"`);
  return n;
}
