import { tmpdir } from 'node:os';
import type { Command } from 'commander';
import { audited, type AuditEvent, type AuditWhat } from '../ops/audit.js';
import { resolveIdentity, type Identity } from '../ops/identity.js';
import type { Logger } from '../ops/log.js';
import { publishMetrics, recordJobRun, type ExtraGauge, type JobName } from '../ops/metrics.js';
import { registerUriSecrets } from '../ops/redact.js';
import { sendNotification, type Notification } from '../ops/notify.js';

export interface JobCliOptions {
  pushgateway?: string;
  metricsFile?: string;
  auditLog?: string;
}

/** The observability flags every job command shares. */
export function withJobOptions(command: Command): Command {
  return command
    .option('--pushgateway <url>', 'push run metrics to this Prometheus Pushgateway')
    .option('--metrics-file <path>', 'otherwise write them as a node_exporter textfile here (default: a file in the temp dir)')
    .option('--audit-log <file>', 'also append the audit line to this file (it always goes to stderr)');
}

export interface JobResultFacts {
  documents: number;
  bytes: number;
  what?: Partial<AuditWhat>;
}

export interface JobSpec<T> {
  job: JobName;
  event: AuditEvent;
  target: string | null;
  what: AuditWhat;
  logger: Logger;
  options: JobCliOptions;
  facts: (result: T) => JobResultFacts;
  extraLabels?: Record<string, string>;
  /** Job-specific gauges, from the result when there is one. */
  gauges?: (ended: JobEnding<T>) => ExtraGauge[];
  /** The one notification this run sends, or null for none. */
  notify?: (ended: JobEnding<T>) => Promise<Notification | null> | Notification | null;
}

export type JobEnding<T> = ({ ok: true; result: T } | { ok: false; error: unknown }) & { durationSeconds: number };

/**
 * Runs a job with one audit line (success or failure, who/what/where) and
 * its metrics published afterwards. Neither ever hides the job's own error.
 */
export async function runJob<T>(spec: JobSpec<T>, operation: (who: Identity) => Promise<T>): Promise<T> {
  // A Pushgateway URL may carry basic-auth credentials; no failure message may print them.
  registerUriSecrets(spec.options.pushgateway);
  const who = resolveIdentity();
  const started = Date.now();
  let facts: JobResultFacts = { documents: 0, bytes: 0 };
  let outcome: 'success' | 'failure' = 'failure';
  let ending: { ok: true; result: T } | { ok: false; error: unknown } = { ok: false, error: new Error('not run') };
  try {
    const result = await audited(
      {
        event: spec.event,
        who,
        what: spec.what,
        target: spec.target,
        describe: (r: T) => {
          facts = spec.facts(r);
          return { documents: facts.documents, ...(facts.what ? { what: facts.what } : {}) };
        },
      },
      () => operation(who),
      spec.options.auditLog ? { file: spec.options.auditLog } : {},
    );
    outcome = 'success';
    ending = { ok: true, result };
    return result;
  } catch (error) {
    ending = { ok: false, error };
    throw error;
  } finally {
    const durationSeconds = (Date.now() - started) / 1000;
    const ended: JobEnding<T> = { ...ending, durationSeconds };
    const gauges = [...runStateGauges(outcome, started + durationSeconds * 1000), ...safely(() => spec.gauges?.(ended) ?? [], spec.logger, [])];
    const metrics = recordJobRun({
      job: spec.job,
      outcome,
      durationSeconds,
      bytes: facts.bytes,
      documents: facts.documents,
      ...(spec.extraLabels ? { extraLabels: spec.extraLabels } : {}),
      gauges,
    });
    await publishMetrics(metrics, {
      ...(spec.options.pushgateway ? { pushgateway: spec.options.pushgateway } : { textfile: spec.options.metricsFile ?? tmpdir() }),
      logger: spec.logger,
    });
    if (spec.notify) {
      const notification = await Promise.resolve()
        .then(() => spec.notify!(ended))
        .catch((error: unknown) => {
          spec.logger.warn(`could not describe the run for its notification: ${error instanceof Error ? error.name : 'error'}`);
          return null;
        });
      if (notification) {
        // The same facts as the message, as one structured log line: the workflow's job summary reads it from the Job's log.
        spec.logger.info('run report', { report: notification });
        await sendNotification(notification, { logger: spec.logger });
      }
    }
  }
}

/**
 * The latest run's state as gauges: with real counters, "did the last run
 * fail" is no longer readable from the counter itself.
 */
function runStateGauges(outcome: 'success' | 'failure', finishedAtMs: number): ExtraGauge[] {
  return [
    { name: 'syrf_db_job_last_run_failed', help: '1 when the latest run of the job failed, 0 when it succeeded.', value: outcome === 'failure' ? 1 : 0 },
    { name: 'syrf_db_job_last_run_timestamp_seconds', help: 'Unix time at which the latest run finished, whatever its outcome.', value: finishedAtMs / 1000 },
  ];
}

/** Monitoring must never turn a finished job into a failed one. */
function safely<V>(compute: () => V, logger: Logger, fallback: V): V {
  try {
    return compute();
  } catch (error) {
    logger.warn(`could not compute job metrics: ${error instanceof Error ? error.message : String(error)}`);
    return fallback;
  }
}
