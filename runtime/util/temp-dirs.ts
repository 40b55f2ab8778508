/**
 * Temporary directories of one run (`<prefix><pid>-XXXXXX` in the temp
 * directory). The pid in the name lets a later run tell an abandoned
 * directory (its process is gone: killed, OOM) from one a live run still
 * uses, so cleanup at the next start never touches another live run's
 * files. Directories this run holds are also removed synchronously when it
 * is stopped by a signal.
 */
import { rmSync } from 'node:fs';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../ops/log.js';
import { diskError } from './disk-errors.js';
import { isProcessAlive } from './process.js';

/** Directories from versions that put no pid in the name: a day is longer than any run. */
const LEGACY_AGE_MS = 24 * 3600_000;

const held = new Set<string>();

export async function createRunTempDir(prefix: string, options: { root?: string; logger?: Logger; what?: string } = {}): Promise<string> {
  const root = options.root ?? tmpdir();
  await removeAbandonedTempDirs(root, prefix, options.logger, options.what);
  const dir = await mkdtemp(join(root, `${prefix}${process.pid}-`)).catch((error: unknown) => {
    throw diskError(error, `creating a temporary directory in ${root}`) ?? error;
  });
  held.add(dir);
  return dir;
}

export async function removeRunTempDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  held.delete(dir);
}

/** For signal handlers and exit paths that cannot await. */
export function removeRunTempDirsSync(): void {
  for (const dir of held) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // best effort: the next start removes it
    }
    held.delete(dir);
  }
}

/** Directories with this prefix left by runs whose process is gone are deleted; a live run's never. */
export async function removeAbandonedTempDirs(root: string, prefix: string, logger?: Logger, what = 'temporary files'): Promise<string[]> {
  const pattern = new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?:(\\d+)-)?[A-Za-z0-9]{6}$`);
  const removed: string[] = [];
  let names: string[];
  try {
    names = await readdir(root);
  } catch {
    return removed;
  }
  for (const name of names) {
    const match = pattern.exec(name);
    if (!match) continue;
    const full = join(root, name);
    const pid = match[1] ? Number(match[1]) : undefined;
    const abandoned =
      pid !== undefined ? pid !== process.pid && !isProcessAlive(pid) : Date.now() - (await stat(full).then((s) => s.mtimeMs, () => Date.now())) > LEGACY_AGE_MS;
    if (!abandoned) continue;
    await rm(full, { recursive: true, force: true });
    removed.push(full);
    logger?.info(`removed ${full}, ${what} left by an interrupted run`);
  }
  return removed;
}
