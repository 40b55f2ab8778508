/**
 * Prometheus metrics for the batch jobs (snapshot, restore, clone, drill,
 * prune). A job records one run at its end and publishes it once: to a
 * Pushgateway when one is configured, else as a node_exporter textfile. The
 * rules in ops/prometheus-rules.yaml depend on these names and on `job`
 * being the bare job name.
 *
 * The exposition is produced by prom-client. The two counters
 * (`syrf_db_job_runs_total`, `syrf_db_job_documents_total`) are real
 * counters: each publish continues from the value the target already holds
 * for the same series (the previous textfile, or what the Pushgateway
 * serves), so `increase()` over 30 days counts runs. A lost Pushgateway
 * simply starts them again from zero, which Prometheus reads as a reset.
 */
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Counter, Gauge, Registry } from 'prom-client';
import type { Logger } from './log.js';

export type JobName = 'snapshot' | 'restore' | 'clone' | 'drill' | 'prune';
export type JobOutcome = 'success' | 'failure';

/** A job-specific gauge sample (e.g. storage bytes per prefix); its labels come after `job` and the grouping labels. */
export interface ExtraGauge {
  name: string;
  help: string;
  labels?: Record<string, string>;
  value: number;
}

export interface JobRun {
  job: JobName;
  outcome: JobOutcome;
  durationSeconds: number;
  bytes: number;
  documents: number;
  /** Extra identifying labels (e.g. `target`); they become the Pushgateway grouping key. */
  extraLabels?: Record<string, string>;
  /** Gauges only this kind of job exports. */
  gauges?: ExtraGauge[];
  finishedAt?: Date;
}

/** What the publish target already counted for this job's series. */
export interface CarriedCounts {
  runs: Record<JobOutcome, number>;
  documents: number;
}

export interface JobMetrics {
  job: JobName;
  /** Labels that identify this run's series besides `job`. */
  groupingLabels: Record<string, string>;
  run: JobRun;
  carried: CarriedCounts;
}

export const RUNS_TOTAL = 'syrf_db_job_runs_total';
export const DOCUMENTS_TOTAL = 'syrf_db_job_documents_total';

const OUTCOMES: readonly JobOutcome[] = ['success', 'failure'];
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const NOTHING_CARRIED: CarriedCounts = { runs: { success: 0, failure: 0 }, documents: 0 };

/** One run's metrics, counting from zero until `publishMetrics` learns what the target already holds. */
export function recordJobRun(run: JobRun): JobMetrics {
  const grouping = { ...(run.extraLabels ?? {}) };
  for (const name of Object.keys(grouping)) assertLabelName(name);
  if ('job' in grouping || 'outcome' in grouping) throw new Error('extraLabels may not redefine job or outcome');
  for (const gauge of run.gauges ?? []) {
    if (!METRIC_NAME.test(gauge.name)) throw new Error(`"${gauge.name}" is not a valid Prometheus metric name`);
    for (const name of Object.keys(gauge.labels ?? {})) assertLabelName(name);
  }
  return { job: run.job, groupingLabels: grouping, run, carried: NOTHING_CARRIED };
}

/** The same run, its counters continuing from `carried`. */
export function continuingFrom(metrics: JobMetrics, carried: CarriedCounts): JobMetrics {
  return { ...metrics, carried };
}

export interface RenderOptions {
  /** Labels left out of every sample (the Pushgateway adds its grouping key itself). */
  omitLabels?: readonly string[];
}

/** The Prometheus text exposition format (version 0.0.4), rendered by prom-client. */
export async function renderExposition(metrics: JobMetrics, options: RenderOptions = {}): Promise<string> {
  const omit = new Set(options.omitLabels ?? []);
  const { run, carried } = metrics;
  const identity = Object.fromEntries(Object.entries({ job: run.job, ...metrics.groupingLabels }).filter(([name]) => !omit.has(name)));
  const identityNames = Object.keys(identity);
  const registry = new Registry();
  const gauge = (name: string, help: string, labelNames: string[] = identityNames) => new Gauge({ name, help, labelNames, registers: [registry] });

  const runs = new Counter({ name: RUNS_TOTAL, help: 'Runs of the job by outcome, since the publish target first saw the job.', labelNames: [...identityNames, 'outcome'], registers: [registry] });
  for (const outcome of OUTCOMES) runs.inc({ ...identity, outcome }, carried.runs[outcome] + (outcome === run.outcome ? 1 : 0));
  gauge('syrf_db_job_duration_seconds', 'Wall-clock duration of the latest run.').set(identity, run.durationSeconds);
  gauge('syrf_db_job_bytes', 'Archive bytes written or read by the latest run.').set(identity, run.bytes);
  new Counter({ name: DOCUMENTS_TOTAL, help: 'Documents processed by the job, summed over its runs.', labelNames: identityNames, registers: [registry] }).inc(
    identity,
    carried.documents + Math.max(0, run.documents),
  );
  if (run.job === 'snapshot' && run.outcome === 'success') {
    gauge('syrf_db_snapshot_last_success_timestamp_seconds', 'Unix time at which the latest successful snapshot finished.').set(identity, finishedAt(run) / 1000);
    gauge('syrf_db_snapshot_size_bytes', 'Size of the latest successful snapshot archive.').set(identity, run.bytes);
  }
  const extras = new Map<string, Gauge>();
  for (const extra of run.gauges ?? []) {
    const labels = { ...identity, ...(extra.labels ?? {}) };
    let family = extras.get(extra.name);
    if (!family) {
      family = gauge(extra.name, extra.help, Object.keys(labels));
      extras.set(extra.name, family);
    }
    family.set(labels, extra.value);
  }
  // prom-client spells NaN "Nan"; Prometheus' own spelling keeps every parser happy.
  return (await registry.metrics()).replace(/ Nan$/gm, ' NaN').replace(/\n\n+/g, '\n');
}

function finishedAt(run: JobRun): number {
  return (run.finishedAt ?? new Date()).getTime();
}

/**
 * `<gateway>/metrics/job/<job>[/<label>/<value>...]`. Values that are
 * empty or contain `/` use the Pushgateway's base64 form.
 */
export function pushgatewayUrl(gateway: string, metrics: JobMetrics): string {
  const pairs: Array<[string, string]> = [['job', metrics.job], ...Object.entries(metrics.groupingLabels)];
  const segments = pairs.map(([name, value]) =>
    value === '' || value.includes('/') ? `${name}@base64/${Buffer.from(value, 'utf8').toString('base64url') || '='}` : `${name}/${encodeURIComponent(value)}`,
  );
  return `${gateway.replace(/\/+$/, '')}/metrics/${segments.join('/')}`;
}

export interface PublishOptions {
  pushgateway?: string;
  /** A `.prom` file, or a directory to write `syrf_db_<job>.prom` into. */
  textfile?: string;
  logger: Logger;
  timeoutMs?: number;
}

export type PublishResult = { kind: 'pushgateway'; url: string } | { kind: 'textfile'; path: string } | { kind: 'none' };

/**
 * Publishing never fails the job: a run that restored its data must not
 * be reported as failed because monitoring was unreachable. Problems are
 * logged as warnings instead.
 */
export async function publishMetrics(metrics: JobMetrics, options: PublishOptions): Promise<PublishResult> {
  try {
    if (options.pushgateway) {
      const timeoutMs = options.timeoutMs ?? 10_000;
      const url = pushgatewayUrl(options.pushgateway, metrics);
      const carried = await carriedFromGateway(options.pushgateway, metrics, timeoutMs, options.logger);
      const body = await renderExposition(continuingFrom(metrics, carried), { omitLabels: ['job', ...Object.keys(metrics.groupingLabels)] });
      await pushToGateway(url, body, timeoutMs);
      options.logger.debug(`pushed metrics to ${url}`);
      return { kind: 'pushgateway', url };
    }
    if (options.textfile) {
      const path = await writeTextfile(options.textfile, metrics);
      options.logger.debug(`wrote metrics to ${path}`);
      return { kind: 'textfile', path };
    }
    return { kind: 'none' };
  } catch (error) {
    options.logger.warn(`could not publish metrics: ${error instanceof Error ? error.message : String(error)}`);
    return { kind: 'none' };
  }
}

/** The gateway serves every group it holds on /metrics; ours is the one whose labels match job + grouping key. */
async function carriedFromGateway(gateway: string, metrics: JobMetrics, timeoutMs: number, logger: Logger): Promise<CarriedCounts> {
  const url = `${gateway.replace(/\/+$/, '')}/metrics`;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    if (!response.ok) throw new Error(`answered ${response.status} ${response.statusText}`);
    return carriedCounts(await response.text(), { job: metrics.job, ...metrics.groupingLabels });
  } catch (error) {
    // Counting from zero is a counter reset, which rate() and increase() handle; losing the run is worse.
    logger.warn(`could not read the previous counters from ${url}, counting from zero: ${error instanceof Error ? error.message : String(error)}`);
    return NOTHING_CARRIED;
  }
}

/** The counters' current values for one series identity, read from a text exposition. */
export function carriedCounts(exposition: string, identity: Record<string, string>): CarriedCounts {
  const carried: CarriedCounts = { runs: { success: 0, failure: 0 }, documents: 0 };
  for (const line of exposition.split('\n')) {
    const sample = parseSampleLine(line);
    if (!sample || (sample.name !== RUNS_TOTAL && sample.name !== DOCUMENTS_TOTAL)) continue;
    if (!Object.entries(identity).every(([name, value]) => (sample.labels[name] ?? '') === value)) continue;
    if (!Number.isFinite(sample.value) || sample.value < 0) continue;
    if (sample.name === DOCUMENTS_TOTAL) carried.documents = sample.value;
    else if (sample.labels['outcome'] === 'success' || sample.labels['outcome'] === 'failure') carried.runs[sample.labels['outcome']] = sample.value;
  }
  return carried;
}

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** One `name{labels} value [timestamp]` line; comments and anything malformed give null. */
export function parseSampleLine(line: string): Sample | null {
  const head = /^([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(line);
  if (!head) return null;
  let position = head[1]!.length;
  const labels: Record<string, string> = {};
  if (line[position] === '{') {
    position += 1;
    for (;;) {
      while (line[position] === ' ' || line[position] === ',') position += 1;
      if (line[position] === '}') {
        position += 1;
        break;
      }
      const name = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(line.slice(position));
      if (!name || line[position + name[0].length] !== '=' || line[position + name[0].length + 1] !== '"') return null;
      position += name[0].length + 2;
      let value = '';
      for (;;) {
        const char = line[position];
        if (char === undefined) return null;
        position += 1;
        if (char === '"') break;
        if (char === '\\') {
          const escaped = line[position];
          position += 1;
          value += escaped === 'n' ? '\n' : (escaped ?? '');
        } else value += char;
      }
      labels[name[0]] = value;
    }
  }
  const value = line.slice(position).trim().split(/\s+/)[0];
  if (value === undefined || value === '') return null;
  return { name: head[1]!, labels, value: Number(value) };
}

/**
 * POST, not PUT: POST replaces only the metric names it sends, so a failed
 * snapshot run keeps the last success timestamp and size of the previous
 * good run instead of wiping them (which would make them look absent).
 */
async function pushToGateway(url: string, body: string, timeoutMs: number): Promise<void> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' },
    body,
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (!response.ok) {
    const detail = (await response.text().catch(() => '')).trim().slice(0, 300);
    throw new Error(`Pushgateway ${url} answered ${response.status} ${response.statusText}${detail ? `: ${detail}` : ''}`);
  }
}

/** node_exporter may read the file at any moment, so it only ever sees a complete one (write, then rename). */
async function writeTextfile(target: string, metrics: JobMetrics): Promise<string> {
  const isDirectory = await stat(target).then(
    (s) => s.isDirectory(),
    () => false,
  );
  const path = isDirectory ? join(target, `syrf_db_${metrics.job}.prom`) : target;
  await mkdir(dirname(path), { recursive: true });
  const previous = await readFile(path, 'utf8').catch(() => '');
  const carried = carriedCounts(previous, { job: metrics.job, ...metrics.groupingLabels });
  // node_exporter reads only *.prom, so the temporary name is never collected.
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, await renderExposition(continuingFrom(metrics, carried)), 'utf8');
  await rename(temporary, path);
  return path;
}

function assertLabelName(name: string): void {
  if (!LABEL_NAME.test(name) || name.startsWith('__')) throw new Error(`"${name}" is not a valid Prometheus label name`);
}
