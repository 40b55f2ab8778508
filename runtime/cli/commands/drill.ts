import type { Command } from 'commander';
import { connectMongo } from '../../mongo/connect.js';
import { openStore } from '../../store/open.js';
import { DRILL_DB, runDrill, type DrillFailureContext, type DrillReport } from '../../ops/drill.js';
import { failureReason } from '../../ops/reporting.js';
import { snapshotAgeSeconds } from '../../ops/staging-refresh.js';
import { runJob, withJobOptions, type JobCliOptions } from '../job.js';
import { loggerFor, mongoUriOption } from '../context.js';
import { parseCount } from '../options.js';

interface DrillCliOptions extends JobCliOptions {
  from: string;
  uri?: string;
  snapshot: string;
  sample: number;
  demote: boolean;
  workDir?: string;
}

export function registerDrillCommand(program: Command): void {
  withJobOptions(program.command('drill'))
    .description(`restore a snapshot into the scratch database ${DRILL_DB}, check counts and sampled documents against it, drop it; a failed drill of latest moves latest back`)
    .requiredOption('--from <store>', 'gs://BUCKET[/PREFIX] or file://DIR')
    .option('--uri <uri>', `MongoDB connection string of the server holding ${DRILL_DB} (default: $MONGO_URI)`)
    .option('--snapshot <id>', 'snapshot id or "latest"', 'latest')
    .option('--sample <n>', 'documents compared per collection', parseCount, 50)
    .option('--no-demote', 'on failure, leave latest.txt as it is (alert only)')
    .option('--work-dir <dir>', 'where the archive is downloaded and checked (default: the OS temp dir)')
    .action(async (opts: DrillCliOptions, cmd: Command) => {
      const logger = loggerFor(cmd);
      const mongoUri = mongoUriOption(opts.uri);
      const store = openStore(opts.from);
      const startedAt = new Date();
      const context: DrillFailureContext = { snapshotId: null, manifest: null };
      const report = await runJob(
        {
          job: 'drill',
          event: 'restore',
          target: DRILL_DB,
          what: { snapshotId: opts.snapshot, sha256: null },
          logger,
          options: opts,
          facts: (r: DrillReport) => ({ documents: r.documents, bytes: r.bytes, what: { snapshotId: r.snapshotId, sha256: r.manifest.archive.sha256 } }),
          gauges: (end) => [
            ...(end.ok ? [{ name: 'syrf_db_drill_last_success_timestamp_seconds', help: 'Unix time at which the latest successful restore drill finished.', value: Date.now() / 1000 }] : []),
            {
              name: 'syrf_db_drill_latest_demoted',
              help: '1 when the latest failed drill moved latest.txt back to an earlier snapshot.',
              value: !end.ok && context.latestNow !== undefined && context.latestNow !== null && context.latestNow !== context.snapshotId ? 1 : 0,
            },
          ],
          // A passing drill is the daily normal and stays quiet; a failing one always speaks.
          notify: (end) =>
            end.ok
              ? null
              : {
                  kind: 'drill',
                  outcome: 'failure',
                  trigger: 'scheduled',
                  target: DRILL_DB,
                  snapshotId: context.snapshotId,
                  sourceAgeSeconds: context.manifest ? snapshotAgeSeconds(context.manifest, startedAt) : null,
                  collections: context.manifest ? context.manifest.collections.length : null,
                  documents: context.manifest ? context.manifest.collections.reduce((sum, c) => sum + c.documents, 0) : null,
                  durationSeconds: end.durationSeconds,
                  reason: failureReason(end.error),
                  ...(context.latestNow === undefined ? {} : { latestNow: context.latestNow }),
                },
        },
        async (who) => {
          const client = await connectMongo(mongoUri);
          try {
            return await runDrill(
              {
                store,
                snapshot: opts.snapshot,
                client,
                samplePerCollection: opts.sample,
                demote: opts.demote,
                ...(opts.workDir ? { workDir: opts.workDir } : {}),
                holder: `${who.identity} (syrf-db drill, pid ${process.pid})`,
                logger,
              },
              context,
            );
          } finally {
            await client.close();
          }
        },
      );
      process.stdout.write(
        `drill ${report.snapshotId}: restored ${report.documents} documents in ${report.collections} collections into ${DRILL_DB}, counts match, ${report.sampled} sampled documents identical; ${DRILL_DB} dropped\n`,
      );
    });
}
