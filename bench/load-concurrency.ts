/**
 * `npx tsx bench/load-concurrency.ts [--scale N] [--server-runs N]`: how
 * many collections a ranged full-edition restore should decompress and
 * load at once against this server. Prints seconds per setting (medians).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { silentLogger } from '../runtime/ops/log.js';
import { restoreSnapshot } from '../runtime/restore/restore.js';
import { parseBenchArgs } from './args.js';
import { compiledCli, projectRoot } from './cli-commands.js';
import { benchPreviewEditions } from './preview-bench.js';
import { FileStore } from '../runtime/store/file-store.js';
import { openBenchServer } from './server.js';
import { median } from './stats.js';

async function main(): Promise<void> {
  const args = parseBenchArgs(process.argv.slice(2));
  const work = await mkdtemp(join(tmpdir(), 'syrf-bench-load-'));
  const server = await openBenchServer();
  const client = new MongoClient(server.uri, { maxPoolSize: 16 });
  try {
    await client.connect();
    // Builds the snapshots (and measures nothing else worth keeping: one run, tiny).
    await benchPreviewEditions({ client, uri: server.uri, work, projectRoot, key: Buffer.from('HNclIcZ6u8rb8JMsrbfVszJE3c1D9BiBIzYOpOC/bI1HIa2lw1QNKvBFBehQDJWO'), studies: Math.round(args.studies / 4), runs: 1, cli: compiledCli(), log: () => {} });
    const store = new FileStore(join(work, 'preview-1x'));
    const seconds = new Map<number, number[]>([[1, []], [2, []], [4, []]]);
    for (let run = 0; run < args.serverRuns; run++) {
      for (const concurrency of seconds.keys()) {
        await client.db('syrf_pr_9005').dropDatabase();
        const start = process.hrtime.bigint();
        const result = await restoreSnapshot({ store, snapshot: 'latest', client, target: 'syrf_pr_9005', edition: 'full', loadConcurrency: concurrency, holder: 'bench', logger: silentLogger });
        const s = Number(process.hrtime.bigint() - start) / 1e9;
        seconds.get(concurrency)!.push(s);
        process.stderr.write(`  ${concurrency} at once: ${s.toFixed(1)} s (${result.documents} documents)\n`);
      }
    }
    for (const [concurrency, values] of seconds) process.stdout.write(`${concurrency} collections at once: median ${median(values).toFixed(2)} s\n`);
    await client.db('syrf_pr_9005').dropDatabase();
  } finally {
    await client.close();
    await server.stop();
    await rm(work, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
