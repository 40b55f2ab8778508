/**
 * `npx tsx bench/snapshot-run.ts [--scale N] [--server-runs N]`: only the
 * snapshot-vs-mongodump row of `npm run bench` (interleaved runs, medians),
 * for a quick measurement on a busy machine. Prints the timings, writes nothing.
 */
import { benchDataset } from './dataset.js';
import { findMongoTools } from './mongo-tools.js';
import { benchSnapshot } from './server-bench.js';
import { isFerretDb, seedBenchDatabase } from './server.js';
import { runStandalone } from './standalone.js';

runStandalone('snapshot', async ({ args, client, uri, work, log }) => {
  const seeded = await seedBenchDatabase(client.db('syrf_bench'), benchDataset({ studies: args.studies }));
  const tools = await findMongoTools();
  const result = await benchSnapshot({ client, uri, isFerretDb: await isFerretDb(client), sourceDb: 'syrf_bench', tools, runs: args.serverRuns, workDir: work, log }, seeded);
  const summary = { documents: result.documents, ours: result.ours?.seconds, mongodump: result.tools?.seconds, ratio: result.ours && result.tools ? result.tools.medianSeconds / result.ours.medianSeconds : null };
  process.stdout.write(`${JSON.stringify(summary)}\n`);
  await client.db('syrf_bench').dropDatabase();
});
