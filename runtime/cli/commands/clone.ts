import type { Command } from 'commander';
import { UserError } from '../../errors.js';
import { connectMongo } from '../../mongo/connect.js';
import { cloneDatabase } from '../../restore/clone.js';
import { loggerFor, parseList } from '../context.js';

export function registerCloneCommand(program: Command): void {
  program
    .command('clone')
    .description('copy staging into a preview database (the "staging" data source), with the restore guard and atomicity')
    .option('--uri <uri>', 'MongoDB connection string (default: $MONGO_URI)')
    .option('--from <db>', 'source database', 'syrf_staging')
    .requiredOption('--target <db>', 'target database, e.g. syrf_pr_123')
    .option('--collections <list>', 'clone only these collections (comma-separated)')
    .action(async (opts: { uri?: string; from: string; target: string; collections?: string }, cmd: Command) => {
      const logger = loggerFor(cmd);
      const uri = opts.uri ?? process.env.MONGO_URI;
      if (!uri) throw new UserError('no MongoDB URI given', { hint: 'pass --uri or set MONGO_URI', exitCode: 2 });
      const collections = parseList(opts.collections);
      const client = await connectMongo(uri);
      try {
        const result = await cloneDatabase({
          client,
          from: opts.from,
          target: opts.target,
          ...(collections ? { collections } : {}),
          holder: `syrf-db clone pid ${process.pid}`,
          logger,
        });
        process.stdout.write(`cloned ${result.from} into ${result.target}: ${result.collections.map((c) => `${c.name} ${c.documents}`).join(', ')} (${result.documents} documents)\n`);
      } finally {
        await client.close();
      }
    });
}
