import type { Command } from 'commander';
import { connectMongo } from '../../mongo/connect.js';
import { cloneDatabase, type CloneResult } from '../../restore/clone.js';
import { runJob, withJobOptions, type JobCliOptions } from '../job.js';
import { loggerFor, mongoUriOption, parseList } from '../context.js';

export function registerCloneCommand(program: Command): void {
  withJobOptions(program.command('clone'))
    .description('copy staging into a preview database (the "staging" data source), with the restore guard and atomicity')
    .option('--uri <uri>', 'MongoDB connection string (default: $MONGO_URI)')
    .option('--from <db>', 'source database', 'syrf_staging')
    .requiredOption('--target <db>', 'target database, e.g. syrf_pr_123')
    .option('--collections <list>', 'clone only these collections (comma-separated)')
    .action(async (opts: { uri?: string; from: string; target: string; collections?: string } & JobCliOptions, cmd: Command) => {
      const logger = loggerFor(cmd);
      const mongoUri = mongoUriOption(opts.uri);
      const collections = parseList(opts.collections);
      const result = await runJob(
        {
          job: 'clone',
          event: 'clone',
          target: opts.target,
          what: { snapshotId: null, sha256: null, sourceDb: opts.from },
          logger,
          options: opts,
          extraLabels: { target: opts.target },
          facts: (r: CloneResult) => ({ documents: r.documents, bytes: 0 }),
        },
        async (who) => {
          const client = await connectMongo(mongoUri);
          try {
            return await cloneDatabase({
              client,
              from: opts.from,
              target: opts.target,
              ...(collections ? { collections } : {}),
              holder: `${who.identity} (syrf-db clone, pid ${process.pid})`,
              logger,
            });
          } finally {
            await client.close();
          }
        },
      );
      process.stdout.write(`cloned ${result.from} into ${result.target}: ${result.collections.map((c) => `${c.name} ${c.documents}`).join(', ')} (${result.documents} documents)\n`);
    });
}
