import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { connectMongo } from '../../mongo/connect.js';
import { checkDropTarget, dropPreviewDatabase } from '../../lifecycle/drop.js';
import { parseAge, parseOpenPrs, sweepPreviewDatabases, type SweepDecision } from '../../lifecycle/sweep.js';
import { ExitCode, UserError } from '../../errors.js';
import { mongoUriOption } from '../context.js';

const holder = (command: string) => `syrf-db ${command} (pid ${process.pid})`;

export function registerDropCommand(program: Command): void {
  program
    .command('drop')
    .description('drop one preview database (syrf_pr_<N>) when its PR closes; staging and production are refused')
    .option('--uri <uri>', 'MongoDB connection string (default: $MONGO_URI)')
    .requiredOption('--target <db>', 'the preview database, e.g. syrf_pr_123')
    .action(async (opts: { uri?: string; target: string }) => {
      // Refuse a bad name before connecting anywhere.
      checkDropTarget(opts.target);
      const client = await connectMongo(mongoUriOption(opts.uri));
      try {
        const result = await dropPreviewDatabase(client, opts.target, holder('drop'));
        process.stdout.write(result.dropped ? `dropped ${result.target}\n` : `${result.target} does not exist; nothing to drop\n`);
      } finally {
        await client.close();
      }
    });
}

async function readOpenPrs(source: string): Promise<string> {
  if (source === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }
  try {
    return await readFile(source, 'utf8');
  } catch (error) {
    throw new UserError(`cannot read the open-PR list ${source}: ${(error as NodeJS.ErrnoException).code ?? String(error)}; nothing was dropped`, {
      hint: 'pass a file holding `gh pr list --state open --json number` output, or - for stdin',
      exitCode: ExitCode.usage,
    });
  }
}

function describe(decision: SweepDecision, dryRun: boolean): string {
  const days = (decision.ageMs / 86_400_000).toFixed(1);
  const verb = decision.action === 'keep' ? 'kept' : dryRun ? 'would drop' : 'dropped';
  const why = decision.reason === 'pr-not-open' ? `PR #${decision.pr} is not open` : decision.reason === 'older-than-limit' ? `older than the limit (${days} days)` : `PR #${decision.pr} is open, ${days} days old`;
  return `${verb} ${decision.database}: ${why}\n`;
}

export function registerSweepCommand(program: Command): void {
  program
    .command('sweep')
    .description('drop preview databases whose PR is not open or that are older than --older-than, and report each')
    .option('--uri <uri>', 'MongoDB connection string (default: $MONGO_URI)')
    .requiredOption('--open-prs <file>', 'JSON list of open PR numbers (`gh pr list --state open --json number`), or - for stdin')
    .option('--older-than <age>', 'drop preview databases older than this, e.g. 14d or 36h', '14d')
    .option('--dry-run', 'report what would be dropped, drop nothing')
    .action(async (opts: { uri?: string; openPrs: string; olderThan: string; dryRun?: boolean }) => {
      const maxAgeMs = parseAge(opts.olderThan);
      const openPrs = parseOpenPrs(await readOpenPrs(opts.openPrs));
      const client = await connectMongo(mongoUriOption(opts.uri));
      try {
        const dryRun = opts.dryRun === true;
        const result = await sweepPreviewDatabases({ client, openPrs, maxAgeMs, dryRun, holder: holder('sweep') });
        for (const decision of result.decisions) process.stdout.write(describe(decision, dryRun));
        process.stdout.write(`sweep: ${result.decisions.length} preview databases, ${dryRun ? 'would drop' : 'dropped'} ${result.decisions.filter((d) => d.action === 'drop').length}\n`);
      } finally {
        await client.close();
      }
    });
}
