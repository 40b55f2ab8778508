/**
 * `npx tsx bench/load-concurrency.ts [--scale N] [--server-runs N]`: how
 * many collections a ranged full-edition restore should decompress and
 * load at once against this server. Prints seconds per setting (medians).
 */
import { join } from 'node:path';
import { silentLogger } from '../runtime/ops/log.js';
import { restoreSnapshot } from '../runtime/restore/restore.js';
import { FileStore } from '../runtime/store/file-store.js';
import { compiledCli, projectRoot } from './cli-commands.js';
import { benchPreviewEditions } from './preview-bench.js';
import { BENCH_KEY, runStandalone } from './standalone.js';
import { median } from './stats.js';

const TARGET = 'syrf_pr_9005';

runStandalone('load', async ({ args, client, uri, work, log }) => {
  // Builds the snapshots (and measures nothing else worth keeping: one run, tiny).
  await benchPreviewEditions({ client, uri, work, projectRoot, key: Buffer.from(BENCH_KEY), studies: Math.round(args.studies / 4), runs: 1, cli: compiledCli(), log: () => {} });
  const store = new FileStore(join(work, 'preview-1x'));
  const seconds = new Map<number, number[]>([[1, []], [2, []], [4, []]]);
  for (let run = 0; run < args.serverRuns; run++) {
    for (const concurrency of seconds.keys()) {
      await client.db(TARGET).dropDatabase();
      const start = process.hrtime.bigint();
      const result = await restoreSnapshot({ store, snapshot: 'latest', client, target: TARGET, edition: 'full', loadConcurrency: concurrency, holder: 'bench', logger: silentLogger });
      const s = Number(process.hrtime.bigint() - start) / 1e9;
      seconds.get(concurrency)!.push(s);
      log(`  ${concurrency} at once: ${s.toFixed(1)} s (${result.documents} documents)`);
    }
  }
  for (const [concurrency, values] of seconds) process.stdout.write(`${concurrency} collections at once: median ${median(values).toFixed(2)} s\n`);
  await client.db(TARGET).dropDatabase();
});
