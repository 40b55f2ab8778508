/**
 * mongodump/mongorestore, when installed: the compatibility tests and the
 * benchmark's baselines. Found in $SYRF_MONGO_TOOLS_BIN (a directory) or on
 * PATH; callers skip or say "n/a" when they are absent, never fake them.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface MongoTools {
  mongodump: string;
  mongorestore: string;
}

/** Undefined when either tool is missing. */
export function findMongoTools(env: NodeJS.ProcessEnv = process.env): MongoTools | undefined {
  const dirs = [env.SYRF_MONGO_TOOLS_BIN, ...(env.PATH ?? '').split(delimiter)].filter((d): d is string => Boolean(d));
  const find = (name: string) =>
    dirs.map((dir) => join(dir, name)).find((path) => {
      try {
        accessSync(path, constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
  const mongodump = find('mongodump');
  const mongorestore = find('mongorestore');
  return mongodump && mongorestore ? { mongodump, mongorestore } : undefined;
}

/** Runs a tool; on failure the error carries its stderr, which says what went wrong. */
export async function runTool(path: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  try {
    return await run(path, args, { maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    const failed = error as Error & { stderr?: string };
    throw new Error(`${path} ${args.join(' ')} failed: ${failed.message}\n${failed.stderr ?? ''}`);
  }
}

export async function toolVersion(path: string): Promise<string> {
  const { stdout } = await runTool(path, ['--version']);
  return stdout.split('\n')[0]?.trim() ?? 'unknown';
}
