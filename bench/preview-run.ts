/**
 * `npx tsx bench/preview-run.ts [--scale N] [--server-runs N]`: only the
 * preview-edition rows of `npm run bench` (1× = a quarter of --scale), for a
 * quick measurement on a busy machine. Prints the rows and writes nothing.
 */
import { compiledCli, projectRoot } from './cli-commands.js';
import { benchPreviewEditions, previewRows } from './preview-bench.js';
import { formatTerminalTable } from './report.js';
import { BENCH_KEY, runStandalone } from './standalone.js';

runStandalone('preview', async ({ args, client, uri, work, log }) => {
  const result = await benchPreviewEditions({ client, uri, work, projectRoot, key: Buffer.from(BENCH_KEY), studies: Math.max(100, Math.round(args.studies / 4)), runs: args.serverRuns, cli: compiledCli(), log });
  process.stdout.write(`${JSON.stringify(result)}\n\n${formatTerminalTable(previewRows(result).cells)}\n`);
});
