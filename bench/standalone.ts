/**
 * The frame of the bench scripts that run one measurement alone
 * (preview-run.ts, load-concurrency.ts, restore-scale.ts): parsed args, a
 * scratch directory, a server and a client, all removed afterwards, and one
 * clear line when the measurement fails.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { parseBenchArgs, type BenchArgs } from './args.js';
import { openBenchServer } from './server.js';

/** A fixed, public key: the bench measures speed, its pseudonyms protect nothing. */
export const BENCH_KEY = 'HNclIcZ6u8rb8JMsrbfVszJE3c1D9BiBIzYOpOC/bI1HIa2lw1QNKvBFBehQDJWO';

export interface StandaloneContext {
  args: BenchArgs;
  client: MongoClient;
  uri: string;
  work: string;
  log: (line: string) => void;
}

export function runStandalone(name: string, measure: (context: StandaloneContext) => Promise<void>, argv = process.argv.slice(2)): void {
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const main = async () => {
    const args = parseBenchArgs(argv);
    const work = await mkdtemp(join(tmpdir(), `syrf-bench-${name}-`));
    const server = await openBenchServer();
    const client = new MongoClient(server.uri, { maxPoolSize: 16 });
    try {
      await client.connect();
      await measure({ args, client, uri: server.uri, work, log });
    } finally {
      await client.close();
      await server.stop();
      await rm(work, { recursive: true, force: true });
    }
  };
  main().catch((error: unknown) => {
    log(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exitCode = 1;
  });
}
