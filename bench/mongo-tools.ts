/**
 * mongodump/mongorestore, the baselines for snapshot and restore. They are
 * found in $SYRF_MONGO_TOOLS_BIN (a directory) or on PATH; when absent the
 * bench says so instead of inventing numbers.
 */
import { findMongoTools as findTools, toolVersion, type MongoTools as Tools } from '../test/support/mongo-tools.js';

export { runTool } from '../test/support/mongo-tools.js';

export interface MongoTools extends Tools {
  version: string;
}

export async function findMongoTools(env: NodeJS.ProcessEnv = process.env): Promise<MongoTools | undefined> {
  const tools = findTools(env);
  return tools ? { ...tools, version: await toolVersion(tools.mongodump) } : undefined;
}

export function mongodumpArgs(uri: string, db: string, archive: string): string[] {
  return [`--uri=${uri}`, `--db=${db}`, `--archive=${archive}`, '--gzip', '--quiet'];
}

export function mongorestoreArgs(uri: string, archive: string, fromDb: string, toDb: string): string[] {
  return [`--uri=${uri}`, `--archive=${archive}`, '--gzip', '--drop', `--nsFrom=${fromDb}.*`, `--nsTo=${toDb}.*`, '--quiet'];
}
