/**
 * Prometheus metrics for the batch jobs (snapshot, restore, clone). A job
 * records one run at its end and publishes it once: to a Pushgateway when
 * one is configured, else as a node_exporter textfile. The alert rules in
 * ops/prometheus-rules.yaml depend on these names and on `job` being the
 * bare job name (snapshot|restore|clone).
 */
import { mkdir, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Logger } from './log.js';

export type JobName = 'snapshot' | 'restore' | 'clone';
export type JobOutcome = 'success' | 'failure';
export type MetricType = 'counter' | 'gauge';

export interface JobRun {
  job: JobName;
  outcome: JobOutcome;
  durationSeconds: number;
  bytes: number;
  documents: number;
  /** Extra identifying labels (e.g. `target`); they become the Pushgateway grouping key. */
  extraLabels?: Record<string, string>;
  finishedAt?: Date;
}

export interface MetricSample {
  labels: Record<string, string>;
  value: number;
}

export interface MetricFamily {
  name: string;
  help: string;
  type: MetricType;
  samples: MetricSample[];
}

export interface JobMetrics {
  job: JobName;
  /** Labels that identify this run's series besides `job`. */
  groupingLabels: Record<string, string>;
  families: MetricFamily[];
}

const OUTCOMES: readonly JobOutcome[] = ['success', 'failure'];
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/**
 * One run's metrics. Counters count this run only (each push replaces the
 * last), so `syrf_db_job_runs_total{outcome="failure"}` is 1 exactly while
 * the latest run of that job failed, which is what the alerts test.
 */
export function recordJobRun(run: JobRun): JobMetrics {
  const grouping = { ...(run.extraLabels ?? {}) };
  for (const name of Object.keys(grouping)) assertLabelName(name);
  if ('job' in grouping || 'outcome' in grouping) throw new Error('extraLabels may not redefine job or outcome');
  const labels = { job: run.job, ...grouping };
  const one = (value: number): MetricSample[] => [{ labels, value }];

  const families: MetricFamily[] = [
    {
      name: 'syrf_db_job_runs_total',
      help: 'Runs of the job by outcome; 1 for the outcome of the latest run, 0 for the other.',
      type: 'counter',
      samples: OUTCOMES.map((outcome) => ({ labels: { ...labels, outcome }, value: outcome === run.outcome ? 1 : 0 })),
    },
    { name: 'syrf_db_job_duration_seconds', help: 'Wall-clock duration of the latest run.', type: 'gauge', samples: one(run.durationSeconds) },
    { name: 'syrf_db_job_bytes', help: 'Archive bytes written or read by the latest run.', type: 'gauge', samples: one(run.bytes) },
    {
      name: 'syrf_db_job_documents_total',
      help: 'Documents processed by the latest run.',
      type: 'counter',
      samples: one(run.documents),
    },
  ];
  if (run.job === 'snapshot' && run.outcome === 'success') {
    const finished = run.finishedAt ?? new Date();
    families.push(
      {
        name: 'syrf_db_snapshot_last_success_timestamp_seconds',
        help: 'Unix time at which the latest successful snapshot finished.',
        type: 'gauge',
        samples: one(finished.getTime() / 1000),
      },
      { name: 'syrf_db_snapshot_size_bytes', help: 'Size of the latest successful snapshot archive.', type: 'gauge', samples: one(run.bytes) },
    );
  }
  return { job: run.job, groupingLabels: grouping, families };
}

export interface RenderOptions {
  /** Labels left out of every sample (the Pushgateway adds its grouping key itself). */
  omitLabels?: readonly string[];
}

/** The Prometheus text exposition format (version 0.0.4). */
export function renderExposition(metrics: JobMetrics, options: RenderOptions = {}): string {
  const omit = new Set(options.omitLabels ?? []);
  const lines: string[] = [];
  for (const family of metrics.families) {
    if (family.samples.length === 0) continue;
    lines.push(`# HELP ${family.name} ${escapeHelp(family.help)}`, `# TYPE ${family.name} ${family.type}`);
    for (const sample of family.samples) {
      const labels = Object.entries(sample.labels).filter(([name]) => !omit.has(name));
      const rendered = labels.length === 0 ? '' : `{${labels.map(([name, value]) => `${name}="${escapeLabelValue(value)}"`).join(',')}}`;
      lines.push(`${family.name}${rendered} ${formatValue(sample.value)}`);
    }
  }
  return lines.join('\n') + '\n';
}

export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
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
      const url = pushgatewayUrl(options.pushgateway, metrics);
      await pushToGateway(url, renderExposition(metrics, { omitLabels: ['job', ...Object.keys(metrics.groupingLabels)] }), options.timeoutMs ?? 10_000);
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
  // node_exporter reads only *.prom, so the temporary name is never collected.
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, renderExposition(metrics), 'utf8');
  await rename(temporary, path);
  return path;
}

function assertLabelName(name: string): void {
  if (!LABEL_NAME.test(name) || name.startsWith('__')) throw new Error(`"${name}" is not a valid Prometheus label name`);
}
