import type { Command } from 'commander';
import { openStore } from '../../store/open.js';
import { pruneSnapshots } from '../../snapshot/prune.js';
import { loggerFor } from '../context.js';
import { printJson } from '../format.js';
import { parseCount } from '../options.js';

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
    .action(async (opts: { from: string; daily: number; weekly: number; incompleteGraceHours: number; dryRun?: boolean; json?: boolean }, cmd: Command) => {
      const decisions = await pruneSnapshots(
        openStore(opts.from),
        { daily: opts.daily, weekly: opts.weekly, incompleteGraceHours: opts.incompleteGraceHours },
        { dryRun: Boolean(opts.dryRun), now: new Date(), logger: loggerFor(cmd) },
      );
      if (opts.json) {
        printJson({ dryRun: Boolean(opts.dryRun), decisions });
        return;
      }
      const verb = (action: string) => (action === 'keep' ? 'keep  ' : opts.dryRun ? 'would delete' : 'deleted');
      for (const d of decisions) process.stdout.write(`${verb(d.action)} ${d.id}  (${d.reason})\n`);
      if (decisions.length === 0) process.stdout.write('no snapshots\n');
    });
}
