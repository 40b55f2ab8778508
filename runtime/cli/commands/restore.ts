import { heldUntilEnd } from '../../anonymize/hold.js';
import type { Command } from 'commander';
import { loadAnonymizationKey, KEY_ENV_VAR } from '../../anonymize/key.js';
import { anonymizeArchive, subsetArchive } from '../../anonymize/filter.js';
import { loadRules } from '../../anonymize/rules.js';
import { connectMongo } from '../../mongo/connect.js';
import { openStore } from '../../store/open.js';
import { restoreSnapshot, type EventTransform, type RestoreResult } from '../../restore/restore.js';
import { runJob, withJobOptions, type JobCliOptions, type JobEnding } from '../job.js';
import { parseEdition } from '../edition-option.js';
import type { Edition } from '../../restore/source.js';
import { loggerFor, mongoUriOption, parseList } from '../context.js';
import { STAGING_DB } from '../../restore/guard.js';
import { loadManifest, resolveSnapshotId } from '../../snapshot/catalog.js';
import { ended, stagingGauges, stagingNotification } from '../../ops/reporting.js';

interface RestoreCliOptions extends JobCliOptions {
  from: string;
  snapshot: string;
  uri?: string;
  target: string;
  collections?: string;
  rules?: string;
  keyFile?: string;
  sizeLimits: boolean;
  confirm?: string;
  workDir?: string;
  edition?: Edition;
}

export function registerRestoreCommand(program: Command): void {
  withJobOptions(program.command('restore'))
    .description('restore a snapshot into a preview (syrf_pr_<N>) or staging database: verified, anonymized, atomic per collection')
    .requiredOption('--from <store>', 'gs://BUCKET[/PREFIX] or file://DIR')
    .option('--snapshot <id>', 'snapshot id or "latest"', 'latest')
    .option('--uri <uri>', 'MongoDB connection string of the target (default: $MONGO_URI)')
    .requiredOption('--target <db>', 'target database: syrf_pr_<N> or syrf_staging')
    .option('--collections <list>', 'restore only these collections (comma-separated)')
    .option('--rules <file>', 'rules: size limits with referential subsetting; with the key, anonymizes a raw snapshot in the stream')
    .option('--key-file <path>', `HMAC key for raw snapshots (default: $${KEY_ENV_VAR}; never present in previews)`)
    .option('--no-size-limits', "restore every document even when the rules set size limits (staging)")
    .option('--confirm <word>', 'required as "refresh-staging" to overwrite syrf_staging')
    .option('--edition <edition>', 'preview (size-limited at capture; default for syrf_pr_<N>) or full (default otherwise)', parseEdition)
    .option('--work-dir <dir>', 'where the archive is downloaded and checked (default: the OS temp dir)')
    .action(async (opts: RestoreCliOptions, cmd: Command) => {
      const logger = loggerFor(cmd);
      const mongoUri = mongoUriOption(opts.uri);
      const rules = opts.rules ? await loadRules(opts.rules) : undefined;
      const collections = parseList(opts.collections);
      // The key is optional: previews have none and get anonymized snapshots; without it a raw snapshot is refused.
      const key = rules && (opts.keyFile || process.env[KEY_ENV_VAR]) ? await loadAnonymizationKey(opts.keyFile ? { keyFile: opts.keyFile } : {}) : undefined;
      const anonymize: EventTransform | undefined =
        rules && key
          ? // The check's verdict comes when the input ends: hold everything on local disk until then, so a refused
            // (or killed) run never writes a document of a raw snapshot into the target.
            (events) => heldUntilEnd(anonymizeArchive(events, { rules, key, applySizeLimits: opts.sizeLimits, logger }), opts.workDir ? { workDir: opts.workDir } : {})
          : undefined;
      const subset: EventTransform | undefined = rules && opts.sizeLimits ? (events) => subsetArchive(events, { rules, logger }) : undefined;

      const store = openStore(opts.from);
      const startedAt = new Date();
      // Every write into staging, manual ones included, reports through the same gauges and one notification.
      const staging = opts.target === STAGING_DB;
      const result = await runJob(
        {
          job: 'restore',
          event: 'restore',
          target: opts.target,
          what: { snapshotId: opts.snapshot, sha256: null },
          logger,
          options: opts,
          extraLabels: { target: opts.target },
          facts: (r: RestoreResult) => ({ documents: r.documents, bytes: r.bytes, what: { snapshotId: r.snapshotId, sha256: r.sha256 } }),
          ...(staging
            ? {
                gauges: (end: JobEnding<RestoreResult>) => stagingGauges(ended(end), null, startedAt),
                notify: async (end: JobEnding<RestoreResult>) => {
                  const snapshotId = end.ok ? end.result.snapshotId : await resolveSnapshotId(store, opts.snapshot).catch(() => null);
                  const manifest = snapshotId ? await loadManifest(store, snapshotId).catch(() => null) : null;
                  return stagingNotification(ended(end), { trigger: 'manual', target: STAGING_DB, snapshotId, manifest, startedAt });
                },
              }
            : {}),
        },
        async (who) => {
          const client = await connectMongo(mongoUri);
          try {
            return await restoreSnapshot({
              store,
              snapshot: opts.snapshot,
              client,
              target: opts.target,
              ...(collections ? { collections } : {}),
              ...(rules ? { rules } : {}),
              ...(anonymize ? { anonymize } : {}),
              ...(subset ? { subset } : {}),
              ...(opts.confirm ? { confirm: opts.confirm } : {}),
              ...(opts.workDir ? { workDir: opts.workDir } : {}),
              // --no-size-limits asks for every document: the full edition unless told otherwise.
              ...(opts.edition ? { edition: opts.edition } : opts.sizeLimits ? {} : { edition: 'full' as const }),
              holder: `${who.identity} (syrf-db restore, pid ${process.pid})`,
              logger,
            });
          } finally {
            await client.close();
          }
        },
      );
      process.stdout.write(
        `restored snapshot ${result.snapshotId} into ${result.target}: ${result.collections.map((c) => `${c.name} ${c.documents}`).join(', ')} (${result.documents} documents)\n`,
      );
    });
}
