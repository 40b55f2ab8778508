import type { Command } from 'commander';
import { connectMongo } from '../../mongo/connect.js';
import { parseWait, waitForDatabase } from '../../lifecycle/wait-for-database.js';
import { loggerFor, mongoUriOption } from '../context.js';

export function registerPingCommand(program: Command): void {
  program
    .command('ping')
    .description('connect and authenticate; with --wait, retry until the credentials work (a Job\'s first step)')
    .option('--uri <uri>', 'MongoDB connection string (default: $MONGO_URI)')
    .option('--wait <duration>', 'keep retrying for this long, e.g. 15m', '0s')
    .action(async (opts: { uri?: string; wait: string }, cmd: Command) => {
      const logger = loggerFor(cmd);
      const uri = mongoUriOption(opts.uri);
      const timeoutMs = opts.wait === '0s' ? 0 : parseWait(opts.wait);
      const attempts = await waitForDatabase({
        connect: () => connectMongo(uri, { serverSelectionTimeoutMs: 10_000 }),
        timeoutMs,
        onRetry: (attempt, error) => logger.info(`database not ready (attempt ${attempt}): ${error}`),
      });
      process.stdout.write(`database ready after ${attempts} attempt${attempts === 1 ? '' : 's'}\n`);
    });
}
