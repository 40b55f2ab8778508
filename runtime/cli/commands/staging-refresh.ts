import type { Command } from 'commander';
import { connectMongo } from '../../mongo/connect.js';
import { openStore } from '../../store/open.js';
import { STAGING_DB } from '../../restore/guard.js';
import type { RestoreResult } from '../../restore/restore.js';
import { ended, stagingGauges, stagingNotification } from '../../ops/reporting.js';
import { scheduledStagingRefresh, type ScheduledRefreshOptions } from '../../ops/staging-refresh.js';
import { runJob, withJobOptions, type JobCliOptions } from '../job.js';
import { loggerFor, mongoUriOption } from '../context.js';
import { InvalidArgumentError } from 'commander';

interface StagingRefreshCliOptions extends JobCliOptions {
  from: string;
  uri?: string;
  confirm?: string;
  maxAgeHours: number;
  workDir?: string;
}

export function registerStagingRefreshCommand(program: Command): void {
  withJobOptions(program.command('staging-refresh'))
    .description(`scheduled refresh of ${STAGING_DB} from latest: refuses a snapshot that is not anonymized, too old or fails verification`)
    .requiredOption('--from <store>', 'gs://BUCKET[/PREFIX] or file://DIR')
    .option('--uri <uri>', 'MongoDB connection string of staging (default: $MONGO_URI)')
    .option('--confirm <word>', 'required as "refresh-staging", as for every write into staging')
    .option('--max-age-hours <h>', 'refuse a latest snapshot older than this', parseHours, 48)
    .option('--work-dir <dir>', 'where the archive is downloaded and checked (default: the OS temp dir)')
    .action(async (opts: StagingRefreshCliOptions, cmd: Command) => {
      const logger = loggerFor(cmd);
      const mongoUri = mongoUriOption(opts.uri);
      const store = openStore(opts.from);
      const startedAt = new Date();
      const seen: ScheduledRefreshOptions['seen'] = { snapshotId: null, manifest: null };
      const result = await runJob(
        {
          job: 'restore',
          event: 'restore',
          target: STAGING_DB,
          what: { snapshotId: 'latest', sha256: null },
          logger,
          options: opts,
          extraLabels: { target: STAGING_DB },
          facts: (r: RestoreResult) => ({ documents: r.documents, bytes: r.bytes, what: { snapshotId: r.snapshotId, sha256: r.sha256 } }),
          gauges: (end) => stagingGauges(ended(end), seen.manifest, startedAt),
          notify: (end) => stagingNotification(ended(end), { trigger: 'scheduled', target: STAGING_DB, snapshotId: seen.snapshotId, manifest: seen.manifest, startedAt }),
        },
        async (who) => {
          const client = await connectMongo(mongoUri);
          try {
            return await scheduledStagingRefresh({
              store,
              client,
              ...(opts.confirm ? { confirm: opts.confirm } : {}),
              maxAgeHours: opts.maxAgeHours,
              now: startedAt,
              ...(opts.workDir ? { workDir: opts.workDir } : {}),
              holder: `${who.identity} (syrf-db staging-refresh, pid ${process.pid})`,
              logger,
              seen,
            });
          } finally {
            await client.close();
          }
        },
      );
      process.stdout.write(`refreshed ${STAGING_DB} from ${result.snapshotId}: ${result.collections.length} collections, ${result.documents} documents\n`);
    });
}

/** Hours, fractions allowed (0.5 = 30 minutes); zero, negative and non-numbers are usage errors. */
function parseHours(value: string): number {
  const hours = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value.trim()) || !(hours > 0)) throw new InvalidArgumentError(`expected a number of hours > 0, got "${value}"`);
  return hours;
}
