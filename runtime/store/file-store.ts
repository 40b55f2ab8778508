import { createReadStream, createWriteStream } from 'node:fs';
import { link, mkdir, readFile, readdir, rename, rm, rmdir, stat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { UserError } from '../errors.js';
import { AlreadyExistsError, type Store, type StoredObject, type WriteOptions } from './store.js';
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

  async write(key: string, body: Readable | Buffer | string, options: WriteOptions = {}): Promise<void> {
    const target = this.pathOf(key);
    await mkdir(dirname(target), { recursive: true });
    await removeAbandonedTemporaries(target);
    // Write beside the target and rename: a crash leaves only a temp file that `list` ignores.
    const temp = `${target}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      const source = typeof body === 'string' || Buffer.isBuffer(body) ? Readable.from([Buffer.from(body)]) : body;
      if (options.ifAbsent && (await this.stat(key))) throw new AlreadyExistsError(this.describe(key));
      await pipeline(source, createWriteStream(temp, { flags: 'wx' }));
      if (options.ifAbsent) {
        // link() never replaces: of two writers, exactly one creates the key.
        await link(temp, target).catch((error: unknown) => {
          throw (error as NodeJS.ErrnoException).code === 'EEXIST' ? new AlreadyExistsError(this.describe(key)) : error;
        });
        await rm(temp, { force: true });
      } else {
        await rename(temp, target);
      }
    } catch (error) {
      await rm(temp, { force: true });
      throw diskError(error, `writing ${this.describe(key)}`) ?? error;
    }
  }

  async read(key: string): Promise<Readable> {
    const path = this.pathOf(key);
    await this.mustExist(key, path);
    // A network filesystem can stall or fail midway like any network read.
    return resilientRead(async (offset) => createReadStream(path, { start: offset }), {
      policy: this.readPolicy,
      describe: this.describe(key),
      isPermanent: (error) => ['ENOENT', 'EACCES', 'EISDIR'].includes(String((error as NodeJS.ErrnoException | null)?.code)),
    });
  }

  async readRange(key: string, start: number, end: number): Promise<Readable> {
    const path = this.pathOf(key);
    await this.mustExist(key, path);
    return end > start ? createReadStream(path, { start, end: end - 1 }) : Readable.from([]);
  }

  async readText(key: string): Promise<string> {
    const path = this.pathOf(key);
    await this.mustExist(key, path);
    return readFile(path, 'utf8');
  }

  async stat(key: string): Promise<StoredObject | null> {
    try {
      const info = await stat(this.pathOf(key));
      return info.isFile() ? { key, size: info.size, updated: info.mtime } : null;
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
            const info = await stat(full);
            found.push({ key, size: info.size, updated: info.mtime });
          }
        }
      }
    };
    // A store directory that does not exist yet simply holds no snapshots.
    await walk(this.root);
    return found.sort((a, b) => a.key.localeCompare(b.key));
  }

  async delete(key: string): Promise<void> {
    const path = this.pathOf(key);
    await rm(path, { force: true });
    // Like a bucket, a directory store has no empty "folders": a pruned snapshot leaves nothing behind.
    for (let dir = dirname(path); dir.startsWith(this.root + sep); dir = dirname(dir)) {
      try {
        await rmdir(dir);
      } catch {
        break; // not empty (or already gone): its parents are not empty either
      }
    }
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
