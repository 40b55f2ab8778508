import type { Command } from 'commander';
import { connectMongo } from '../../mongo/connect.js';
import { resolveIdentity } from '../../ops/identity.js';
import { recoverTarget } from '../../restore/recover.js';
import { loggerFor, mongoUriOption } from '../context.js';

export function registerRecoverCommand(program: Command): void {
  program
    .command('recover')
    .description('finish what a killed restore or clone left in a target: complete its swap, drop its temporary collections, release its lock')
    .option('--uri <uri>', 'MongoDB connection string of the target (default: $MONGO_URI)')
    .requiredOption('--target <db>', 'target database: syrf_pr_<N> or syrf_staging')
    .action(async (opts: { uri?: string; target: string }, cmd: Command) => {
      const logger = loggerFor(cmd);
      const client = await connectMongo(mongoUriOption(opts.uri));
      try {
        const report = await recoverTarget({
          client,
          target: opts.target,
          holder: `${resolveIdentity().identity} (syrf-db recover, pid ${process.pid})`,
          logger,
        });
        const parts = [
          report.finishedSwap.length ? `finished the interrupted swap of ${report.finishedSwap.join(', ')}` : 'no interrupted swap',
          report.droppedTemporaries.length ? `dropped ${report.droppedTemporaries.length} temporary collections` : 'no temporary collections',
        ];
        process.stdout.write(`recovered ${opts.target}: ${parts.join('; ')}\n`);
      } finally {
        await client.close();
      }
    });
}
