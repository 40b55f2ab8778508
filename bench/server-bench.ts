/**
 * snapshot vs mongodump and restore vs mongorestore, against the same
 * server, interleaved. Runtime modules are imported lazily so a missing
 * piece (e.g. restore while it is being written) marks its row n/a
 * instead of failing the whole bench.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { MongoClient } from 'mongodb';
import { silentLogger } from '../runtime/ops/log.js';
import { FileStore } from '../runtime/store/file-store.js';
import { startIndexNsProxy, type Proxy } from '../test/support/index-ns-proxy.js';
import { mongodumpArgs, mongorestoreArgs, runTool, type MongoTools } from './mongo-tools.js';
import { timeInterleaved, type Timing, type Variant } from './stats.js';

export interface ServerBenchInput {
  client: MongoClient;
  uri: string;
  sourceDb: string;
  tools: MongoTools | undefined;
  /** FerretDB needs mongorestore's index specs cleaned (see index-ns-proxy.ts). */
  isFerretDb: boolean;
  runs: number;
  workDir: string;
  log: (line: string) => void;
}

export interface ThroughputResult {
  documents: number;
  ours: Timing | null;
  tools: Timing | null;
  error?: string;
}

const SNAPSHOT_ID = '2026-01-01-bench';

export async function benchSnapshot(input: ServerBenchInput, documents: number): Promise<ThroughputResult> {
  const { takeSnapshot } = await import('../runtime/snapshot/take.js');
  const storeDir = join(input.workDir, 'snapshot-store');
  const dumpPath = join(input.workDir, 'mongodump.archive.gz');
  const variants: Variant[] = [
    {
      name: 'syrf-db snapshot',
      prepare: async () => {
        await rm(storeDir, { recursive: true, force: true });
        await mkdir(storeDir, { recursive: true });
      },
      run: async () => {
        await takeSnapshot({
          client: input.client,
          uri: input.uri,
          db: input.sourceDb,
          store: new FileStore(storeDir),
          id: SNAPSHOT_ID,
          isExcluded: () => false,
          logger: silentLogger,
        });
      },
    },
  ];
  if (input.tools) {
    const mongodump = input.tools.mongodump;
    variants.push({
      name: 'mongodump',
      prepare: () => rm(dumpPath, { force: true }),
      run: async () => {
        await runTool(mongodump, mongodumpArgs(input.uri, input.sourceDb, dumpPath));
      },
    });
  }
  const timings = await timeInterleaved(variants, input.runs, (name, s) => input.log(`  ${name}: ${s.toFixed(2)} s`));
  return { documents, ours: timings.get('syrf-db snapshot') ?? null, tools: timings.get('mongodump') ?? null };
}

export interface RestoreBenchInput extends ServerBenchInput {
  /** A store holding an anonymized snapshot of the dataset, and that snapshot's dump.gz. */
  storeDir: string;
  snapshotId: string;
  archive: string;
  documents: number;
}

export async function benchRestore(input: RestoreBenchInput): Promise<ThroughputResult> {
  let restoreSnapshot: typeof import('../runtime/restore/restore.js').restoreSnapshot;
  try {
    ({ restoreSnapshot } = await import('../runtime/restore/restore.js'));
  } catch (error) {
    return { documents: input.documents, ours: null, tools: null, error: `restore is not available: ${(error as Error).message.split('\n')[0]}` };
  }
  const oursTarget = 'syrf_pr_9001';
  const toolsTarget = 'syrf_pr_9002';
  const store = new FileStore(input.storeDir);
  const variants: Variant[] = [
    {
      name: 'syrf-db restore',
      prepare: () => input.client.db(oursTarget).dropDatabase().then(() => undefined),
      run: async () => {
        await restoreSnapshot({ store, snapshot: input.snapshotId, client: input.client, target: oursTarget, holder: 'syrf-db-tools bench', logger: silentLogger });
      },
    },
  ];
  let proxy: Proxy | undefined;
  if (input.tools) {
    const mongorestore = input.tools.mongorestore;
    proxy = input.isFerretDb ? await startIndexNsProxy(input.uri) : undefined;
    const uri = proxy?.uri ?? input.uri;
    variants.push({
      name: 'mongorestore',
      prepare: () => input.client.db(toolsTarget).dropDatabase().then(() => undefined),
      run: async () => {
        await runTool(mongorestore, mongorestoreArgs(uri, input.archive, input.sourceDb, toolsTarget));
      },
    });
  }
  let timings: Map<string, Timing>;
  try {
    timings = await timeInterleaved(variants, input.runs, (name, s) => input.log(`  ${name}: ${s.toFixed(2)} s`));
  } finally {
    await proxy?.close();
  }
  await assertRestored(input.client, oursTarget, input.documents, 'syrf-db restore');
  if (input.tools) await assertRestored(input.client, toolsTarget, input.documents, 'mongorestore');
  for (const target of [oursTarget, toolsTarget]) await input.client.db(target).dropDatabase();
  return { documents: input.documents, ours: timings.get('syrf-db restore') ?? null, tools: timings.get('mongorestore') ?? null };
}

/** A fast restore that restored nothing would be a lie: the counts must match. */
async function assertRestored(client: MongoClient, db: string, expected: number, who: string): Promise<void> {
  let total = 0;
  for (const info of await client.db(db).listCollections({}, { nameOnly: true }).toArray()) {
    // The restore lock lives in the target too; it is bookkeeping, not data.
    if (info.name.startsWith('_syrf')) continue;
    total += await client.db(db).collection(info.name).countDocuments();
  }
  if (total !== expected) throw new Error(`${who} left ${total} documents in ${db}, expected ${expected}`);
}
