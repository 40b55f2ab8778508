import type { Command } from 'commander';
import { tmpdir } from 'node:os';
import { openStore } from '../../store/open.js';
import { pruneSnapshots } from '../../snapshot/prune.js';
import type { RetentionDecision } from '../../snapshot/retention.js';
import { publishMetrics, recordJobRun, type ExtraGauge } from '../../ops/metrics.js';
import { measureStorage, storageGauges } from '../../ops/storage.js';
import { loggerFor } from '../context.js';
import { printJson } from '../format.js';
import { parseCount } from '../options.js';

interface PruneCliOptions {
  from: string;
  daily: number;
  weekly: number;
  incompleteGraceHours: number;
  dryRun?: boolean;
  json?: boolean;
  pushgateway?: string;
  metricsFile?: string;
  storageBudgetBytes?: number;
}

export function registerPruneCommand(program: Command): void {
  program
    .command('prune')
    .description('apply grandfather-father-son retention: keep N daily and M weekly snapshots and whatever latest.txt points to')
    .requiredOption('--from <store>', 'gs://BUCKET[/PREFIX] or file://DIR')
    .option('--daily <n>', 'newest complete snapshots to keep', parseCount, 7)
    .option('--weekly <n>', 'weeks for which the newest complete snapshot is kept', parseCount, 4)
    .option('--incomplete-grace-hours <h>', 'keep incomplete/failed snapshots younger than this', parseCount, 24)
    .option('--dry-run', 'print the plan, delete nothing')
    .option('--json', 'machine-readable output')
    .option('--pushgateway <url>', 'push run and storage metrics to this Prometheus Pushgateway')
    .option('--metrics-file <path>', 'otherwise write them as a node_exporter textfile here (default: a file in the temp dir)')
    .option('--storage-budget-bytes <n>', 'export this budget beside the storage usage, for the over-budget alert', parseCount)
    .action(async (opts: PruneCliOptions, cmd: Command) => {
      const logger = loggerFor(cmd);
      const store = openStore(opts.from);
      const started = Date.now();
      let decisions: RetentionDecision[] = [];
      let outcome: 'success' | 'failure' = 'failure';
      let gauges: ExtraGauge[] = [];
      try {
        decisions = await pruneSnapshots(
          store,
          { daily: opts.daily, weekly: opts.weekly, incompleteGraceHours: opts.incompleteGraceHours },
          { dryRun: Boolean(opts.dryRun), now: new Date(), logger },
        );
        outcome = 'success';
      } finally {
        // Measured after deleting, so the numbers are what retention leaves behind; a dry run measures nothing it would not keep anyway.
        if (!opts.dryRun) {
          try {
            gauges = storageGauges(await measureStorage(store), opts.storageBudgetBytes);
          } catch (error) {
            logger.warn(`could not measure storage: ${error instanceof Error ? error.message : String(error)}`);
          }
          const deleted = decisions.filter((d) => d.action === 'delete').length;
          await publishMetrics(recordJobRun({ job: 'prune', outcome, durationSeconds: (Date.now() - started) / 1000, bytes: 0, documents: deleted, gauges }), {
            ...(opts.pushgateway ? { pushgateway: opts.pushgateway } : { textfile: opts.metricsFile ?? tmpdir() }),
            logger,
          });
        }
      }
      if (opts.json) {
        printJson({ dryRun: Boolean(opts.dryRun), decisions });
        return;
      }
      const verb = (action: string) => (action === 'keep' ? 'keep  ' : opts.dryRun ? 'would delete' : 'deleted');
      for (const d of decisions) process.stdout.write(`${verb(d.action)} ${d.id}  (${d.reason})\n`);
      if (decisions.length === 0) process.stdout.write('no snapshots\n');
    });
}
