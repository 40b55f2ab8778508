import { tmpdir } from 'node:os';
import type { Command } from 'commander';
import { audited, type AuditEvent, type AuditWhat } from '../ops/audit.js';
import { resolveIdentity, type Identity } from '../ops/identity.js';
import type { Logger } from '../ops/log.js';
import { publishMetrics, recordJobRun, type JobName } from '../ops/metrics.js';
import { registerUriSecrets } from '../ops/redact.js';

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
}

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
    return result;
  } finally {
    const metrics = recordJobRun({
      job: spec.job,
      outcome,
      durationSeconds: (Date.now() - started) / 1000,
      bytes: facts.bytes,
      documents: facts.documents,
      ...(spec.extraLabels ? { extraLabels: spec.extraLabels } : {}),
    });
    await publishMetrics(metrics, {
      ...(spec.options.pushgateway ? { pushgateway: spec.options.pushgateway } : { textfile: spec.options.metricsFile ?? tmpdir() }),
      logger: spec.logger,
    });
  }
}
