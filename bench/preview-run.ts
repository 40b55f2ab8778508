/**
 * `npx tsx bench/preview-run.ts [--scale N] [--server-runs N]`: only the
 * preview-edition rows of `npm run bench` (1× = a quarter of --scale), for a
 * quick measurement on a busy machine. Prints the rows and writes nothing.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { parseBenchArgs } from './args.js';
import { compiledCli, projectRoot } from './cli-commands.js';
import { benchPreviewEditions, previewRows } from './preview-bench.js';
import { formatTerminalTable } from './report.js';
import { openBenchServer } from './server.js';

const BENCH_KEY = 'HNclIcZ6u8rb8JMsrbfVszJE3c1D9BiBIzYOpOC/bI1HIa2lw1QNKvBFBehQDJWO';
const log = (line: string) => process.stderr.write(`${line}\n`);

async function main(): Promise<void> {
  const args = parseBenchArgs(process.argv.slice(2));
  const work = await mkdtemp(join(tmpdir(), 'syrf-bench-preview-'));
  const server = await openBenchServer();
  const client = new MongoClient(server.uri, { maxPoolSize: 16 });
  try {
    await client.connect();
    const cli = compiledCli();
    const result = await benchPreviewEditions({ client, uri: server.uri, work, projectRoot, key: Buffer.from(BENCH_KEY), studies: Math.max(100, Math.round(args.studies / 4)), runs: args.serverRuns, cli, log });
    process.stdout.write(`${JSON.stringify(result)}\n\n${formatTerminalTable(previewRows(result).cells)}\n`);
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
