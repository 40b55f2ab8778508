import { createReadStream, createWriteStream } from 'node:fs';
import { link, mkdir, open, readFile, readdir, rename, rm, rmdir, stat } from 'node:fs/promises';
import type { BigIntStats } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { UserError } from '../errors.js';
import { AlreadyExistsError, ChangedUnderUsError, GenerationMismatchError, type DeleteOptions, type ReadOptions, type Store, type StoredObject, type WriteOptions, type WrittenObject } from './store.js';
import { diskError } from '../util/disk-errors.js';
import { DEFAULT_READ_POLICY, resilientRead, type ReadPolicy } from './resilient-read.js';

/** A directory on local disk; the embedded default for local runs and tests. */
export class FileStore implements Store {
  readonly url: string;
  private readonly root: string;

  private readonly readPolicy: ReadPolicy;

  constructor(root: string, options: { readPolicy?: ReadPolicy } = {}) {
    this.readPolicy = options.readPolicy ?? DEFAULT_READ_POLICY;
    this.root = resolve(root);
    this.url = `file://${this.root}`;
  }

  describe(key: string): string {
    return `file://${this.pathOf(key)}`;
  }

  async write(key: string, body: Readable | Buffer | string, options: WriteOptions = {}): Promise<WrittenObject> {
    const target = this.pathOf(key);
    await mkdir(dirname(target), { recursive: true });
    await removeAbandonedTemporaries(target);
    // Write beside the target and rename: a crash leaves only a temp file that `list` ignores.
    const temp = `${target}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      const source = typeof body === 'string' || Buffer.isBuffer(body) ? Readable.from([Buffer.from(body)]) : body;
      if (options.ifAbsent && (await this.stat(key))) throw new AlreadyExistsError(this.describe(key));
      await pipeline(source, createWriteStream(temp, { flags: 'wx' }));
      // link and rename keep the inode and mtime, so this is the version readers will see under the key.
      const generation = generationOf(await stat(temp, { bigint: true }));
      if (options.ifAbsent) {
        // link() never replaces: of two writers, exactly one creates the key.
        await link(temp, target).catch((error: unknown) => {
          throw (error as NodeJS.ErrnoException).code === 'EEXIST' ? new AlreadyExistsError(this.describe(key)) : error;
        });
        await rm(temp, { force: true });
      } else {
        await rename(temp, target);
      }
      return { generation };
    } catch (error) {
      await rm(temp, { force: true });
      throw diskError(error, `writing ${this.describe(key)}`) ?? error;
    }
  }

  async read(key: string, options: ReadOptions = {}): Promise<Readable> {
    const path = this.pathOf(key);
    await this.mustExist(key, path);
    if (options.generation) await this.openPinned(key, options.generation, 0).then((s) => s.destroy());
    // A network filesystem can stall or fail midway like any network read.
    return resilientRead(async (offset) => (options.generation ? this.openPinned(key, options.generation, offset) : createReadStream(path, { start: offset })), {
      policy: this.readPolicy,
      describe: this.describe(key),
      isPermanent: (error) => ['ENOENT', 'EACCES', 'EISDIR'].includes(String((error as NodeJS.ErrnoException | null)?.code)),
    });
  }

  async readRange(key: string, start: number, end: number, options: ReadOptions = {}): Promise<Readable> {
    const path = this.pathOf(key);
    await this.mustExist(key, path);
    if (options.generation) {
      const pinned = await this.openPinned(key, options.generation, start, Math.max(start, end - 1));
      if (end > start) return pinned;
      pinned.destroy();
    }
    return end > start ? createReadStream(path, { start, end: end - 1 }) : Readable.from([]);
  }

  /**
   * Opens the file and checks the version of what was opened (not of the path,
   * which a writer may rename over at any time): the bytes read are then
   * those of that version, however the key changes while they are read.
   */
  private async openPinned(key: string, generation: string, start: number, end?: number): Promise<Readable> {
    let handle;
    try {
      handle = await open(this.pathOf(key), 'r');
    } catch (error) {
      if (isNotFound(error)) throw new GenerationMismatchError(this.describe(key), generation, null);
      throw error;
    }
    const found = generationOf(await handle.stat({ bigint: true }));
    if (found !== generation) {
      await handle.close();
      throw new GenerationMismatchError(this.describe(key), generation, found);
    }
    return handle.createReadStream({ start, ...(end !== undefined ? { end } : {}) });
  }

  async readText(key: string): Promise<string> {
    const path = this.pathOf(key);
    await this.mustExist(key, path);
    return readFile(path, 'utf8');
  }

  async stat(key: string): Promise<StoredObject | null> {
    try {
      const info = await stat(this.pathOf(key), { bigint: true });
      return info.isFile() ? { key, size: Number(info.size), updated: info.mtime, generation: generationOf(info) } : null;
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  async list(prefix: string): Promise<StoredObject[]> {
    const found: StoredObject[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (error) {
        if (isNotFound(error)) return;
        throw error;
      }
      for (const entry of entries) {
        const full = join(dir, entry.name);
        if (entry.isDirectory()) {
          await walk(full);
        } else if (entry.isFile() && !TEMP_SUFFIX.test(entry.name)) {
          const key = relative(this.root, full).split(sep).join('/');
          if (key.startsWith(prefix)) {
            const info = await stat(full, { bigint: true });
            found.push({ key, size: Number(info.size), updated: info.mtime, generation: generationOf(info) });
          }
        }
      }
    };
    // A store directory that does not exist yet simply holds no snapshots.
    await walk(this.root);
    return found.sort((a, b) => a.key.localeCompare(b.key));
  }

  async delete(key: string, options: DeleteOptions = {}): Promise<void> {
    const path = this.pathOf(key);
    if (options.ifGeneration) {
      if (!(await this.deleteVersion(key, path, options.ifGeneration))) return;
    } else {
      await rm(path, { force: true });
    }
    // Like a bucket, a directory store has no empty "folders": a pruned snapshot leaves nothing behind.
    for (let dir = dirname(path); dir.startsWith(this.root + sep); dir = dirname(dir)) {
      try {
        await rmdir(dir);
      } catch {
        break; // not empty (or already gone): its parents are not empty either
      }
    }
  }

  /**
   * Removes the file only if it is `generation`: it is first renamed aside (atomic), then its
   * version checked; another run's file is linked back (never over a newer one) and refused.
   * Returns false when there was nothing to delete.
   */
  private async deleteVersion(key: string, path: string, generation: string): Promise<boolean> {
    const aside = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      await rename(path, aside);
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
    const found = generationOf(await stat(aside, { bigint: true }));
    if (found !== generation) {
      await link(aside, path).catch(() => undefined);
      await rm(aside, { force: true });
      throw new ChangedUnderUsError(this.describe(key), generation, found);
    }
    await rm(aside, { force: true });
    return true;
  }

  private pathOf(key: string): string {
    const path = resolve(this.root, key);
    if (path !== this.root && !path.startsWith(this.root + sep)) {
      throw new UserError(`object key "${key}" points outside the store ${this.url}`);
    }
    return path;
  }

  private async mustExist(key: string, path: string): Promise<void> {
    try {
      await stat(path);
    } catch (error) {
      if (isNotFound(error)) {
        await this.mustHaveRoot();
        throw new UserError(`${this.describe(key)} does not exist`, {
          hint: 'check the snapshot id with `syrf-db list --from ' + this.url + '`',
        });
      }
      throw error;
    }
  }

  private async mustHaveRoot(): Promise<void> {
    try {
      const info = await stat(this.root);
      if (!info.isDirectory()) throw new UserError(`store ${this.url} is not a directory`);
    } catch (error) {
      if (isNotFound(error)) {
        throw new UserError(`store ${this.url} does not exist`, {
          hint: 'check the --from/--to path; a snapshot creates the directory when it writes there',
        });
      }
      throw error;
    }
  }
}

function generationOf(info: BigIntStats): string {
  return `f:${info.dev}:${info.ino}:${info.mtimeNs}:${info.size}`;
}

const TEMP_SUFFIX = /\.tmp-(\d+)-[0-9a-f]{8}$/;

/** Temp files of writers that were killed (their process is gone) are removed before a retry. */
async function removeAbandonedTemporaries(target: string): Promise<void> {
  const prefix = `${basename(target)}.tmp-`;
  for (const name of await readdir(dirname(target))) {
    const pid = Number(TEMP_SUFFIX.exec(name)?.[1]);
    if (name.startsWith(prefix) && pid && !isAlive(pid)) await rm(join(dirname(target), name), { force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | null)?.code === 'ENOENT';
}
