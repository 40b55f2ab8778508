/**
 * mongodump/mongorestore, the baselines for snapshot and restore. They are
 * found in $SYRF_MONGO_TOOLS_BIN (a directory) or on PATH; when absent the
 * bench says so instead of inventing numbers.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface MongoTools {
  mongodump: string;
  mongorestore: string;
  version: string;
}

function findExecutable(name: string, dirs: readonly string[]): string | undefined {
  for (const dir of dirs) {
    const path = join(dir, name);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not here
    }
  }
  return undefined;
}

export async function findMongoTools(env: NodeJS.ProcessEnv = process.env): Promise<MongoTools | undefined> {
  const dirs = [env.SYRF_MONGO_TOOLS_BIN, ...(env.PATH ?? '').split(delimiter)].filter((d): d is string => Boolean(d));
  const mongodump = findExecutable('mongodump', dirs);
  const mongorestore = findExecutable('mongorestore', dirs);
  if (!mongodump || !mongorestore) return undefined;
  const { stdout } = await runTool(mongodump, ['--version']);
  return { mongodump, mongorestore, version: stdout.split('\n')[0]?.trim() ?? 'unknown' };
}

export async function runTool(path: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  try {
    return await run(path, args, { maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    const failed = error as Error & { stderr?: string };
    throw new Error(`${path} ${args.join(' ')} failed: ${failed.message}\n${failed.stderr ?? ''}`);
  }
}

export function mongodumpArgs(uri: string, db: string, archive: string): string[] {
  return [`--uri=${uri}`, `--db=${db}`, `--archive=${archive}`, '--gzip', '--quiet'];
}

export function mongorestoreArgs(uri: string, archive: string, fromDb: string, toDb: string): string[] {
  return [`--uri=${uri}`, `--archive=${archive}`, '--gzip', '--drop', `--nsFrom=${fromDb}.*`, `--nsTo=${toDb}.*`, '--quiet'];
}
