/**
 * The server the bench measures against: $MONGODB_URI when set (a real
 * MongoDB for large runs), otherwise a FerretDB it starts and stops itself.
 */
import type { Db, MongoClient } from 'mongodb';
import { ensureServerBinaries, startFerretDb } from '../test/servers/servers.js';
import type { BenchCollection } from './dataset.js';

export interface BenchServer {
  uri: string;
  description: string;
  stop(): Promise<void>;
}

export async function openBenchServer(env: NodeJS.ProcessEnv = process.env): Promise<BenchServer> {
  if (env.MONGODB_URI) return { uri: env.MONGODB_URI, description: 'MONGODB_URI', stop: async () => {} };
  const server = await startFerretDb(ensureServerBinaries());
  return { uri: server.url, description: 'FerretDB (SQLite), started by the bench', stop: () => server.stop() };
}

/** FerretDB answers buildInfo with its own version beside the MongoDB one it imitates. */
export async function isFerretDb(client: MongoClient): Promise<boolean> {
  const info = await client.db('admin').command({ buildInfo: 1 });
  return 'ferretdbVersion' in info;
}

/** Replaces `db` with the dataset: data first (batches in flight at once), indexes after. */
export async function seedBenchDatabase(db: Db, collections: readonly BenchCollection[]): Promise<number> {
  await db.dropDatabase();
  let total = 0;
  for (const collection of collections) {
    const target = db.collection(collection.name);
    const inFlight = new Set<Promise<unknown>>();
    let batch: object[] = [];
    const submit = async () => {
      while (inFlight.size >= 4) await Promise.race(inFlight);
      const task: Promise<unknown> = target.insertMany(batch, { ordered: false }).finally(() => inFlight.delete(task));
      inFlight.add(task);
      batch = [];
    };
    for (const doc of collection.documents()) {
      // insertMany sets _id on the objects it is given; a copy keeps the shared generator data untouched.
      batch.push({ ...doc });
      if (batch.length >= 1000) await submit();
    }
    if (batch.length > 0) await submit();
    await Promise.all(inFlight);
    if (collection.indexes.length > 0) {
      await target.createIndexes(collection.indexes.map((index) => ({ key: index.key, name: index.name, ...(index.unique ? { unique: true } : {}) })));
    }
    total += collection.count;
  }
  return total;
}
