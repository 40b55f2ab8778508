import type { Bucket } from '@google-cloud/storage';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { UserError } from '../errors.js';
import { AlreadyExistsError, ChangedUnderUsError, GenerationMismatchError, joinKey, type DeleteOptions, type ReadOptions, type Store, type StoredObject, type WriteOptions, type WrittenObject } from './store.js';
import { DEFAULT_READ_POLICY, resilientRead, type ReadPolicy } from './resilient-read.js';

export interface GcsStoreOptions {
  /** Custom API endpoint (fake-gcs-server in tests); credentials are then not used. */
  apiEndpoint?: string;
  projectId?: string;
  /** Fail fast against an unreachable endpoint instead of retrying for minutes. */
  maxRetries?: number;
  /** Idle timeout and resumptions of object reads. */
  readPolicy?: ReadPolicy;
}

/** A bucket (and optional prefix) in Google Cloud Storage, authenticated by Workload Identity / ADC. */
export class GcsStore implements Store {
  readonly url: string;
  private readonly bucketName: string;
  private readonly prefix: string;
  private readonly options: GcsStoreOptions;
  private client: Promise<Bucket> | undefined;

  constructor(bucketName: string, prefix: string, options: GcsStoreOptions = {}) {
    this.bucketName = bucketName;
    this.prefix = prefix.replace(/^\/+|\/+$/g, '');
    this.url = `gs://${bucketName}${this.prefix ? '/' + this.prefix : ''}`;
    this.options = options;
  }

  /** The client library is ~30 MiB of heap; commands that never touch gs:// do not load it. */
  private get bucket(): Promise<Bucket> {
    this.client ??= import('@google-cloud/storage').then(({ Storage }) => {
      const options = this.options;
      const storage = new Storage({
        ...(options.apiEndpoint ? { apiEndpoint: options.apiEndpoint, projectId: options.projectId ?? 'syrf-local' } : {}),
        ...(options.projectId ? { projectId: options.projectId } : {}),
        // maxRetries 0 alone still lets the HTTP layer retry for ~15 s; turning autoRetry off is what stops it.
        retryOptions: { autoRetry: (options.maxRetries ?? 3) > 0, maxRetries: options.maxRetries ?? 3, totalTimeout: 120 },
      });
      return storage.bucket(this.bucketName);
    });
    return this.client;
  }

  describe(key: string): string {
    return `gs://${this.bucketName}/${this.objectName(key)}`;
  }

  async write(key: string, body: Readable | Buffer | string, options: WriteOptions = {}): Promise<WrittenObject> {
    const file = (await this.bucket).file(this.objectName(key));
    // Generation 0 matches only "no live object": the store itself refuses the second of two writers.
    const precondition = options.ifAbsent ? { preconditionOpts: { ifGenerationMatch: 0 } } : {};
    try {
      if (typeof body === 'string' || Buffer.isBuffer(body)) {
        await file.save(Buffer.from(body), { resumable: false, contentType: options.contentType, ...precondition });
      } else {
        // A resumable upload only becomes visible when finalized, so an interrupted
        // upload never replaces the object under this key.
        await pipeline(body, file.createWriteStream({ resumable: true, contentType: options.contentType, validation: 'md5', ...precondition }));
      }
      // The upload's response carries the generation it created; asking again later could see another writer's.
      const generation = file.metadata.generation;
      if (generation === undefined || generation === null) throw new Error(`the store did not report the generation it wrote for ${this.describe(key)}`);
      return { generation: String(generation) };
    } catch (error) {
      if (statusOf(error) === 412) throw new AlreadyExistsError(this.describe(key));
      throw this.translate(error, `writing ${this.describe(key)}`);
    }
  }

  async read(key: string, options: ReadOptions = {}): Promise<Readable> {
    const bucket = await this.bucket;
    const found = await this.stat(key);
    if (!found) {
      if (options.generation) throw new GenerationMismatchError(this.describe(key), options.generation, null);
      throw new UserError(`${this.describe(key)} does not exist`, {
        hint: `check the snapshot id with \`syrf-db list --from ${this.url}\``,
      });
    }
    if (options.generation && found.generation !== options.generation) throw new GenerationMismatchError(this.describe(key), options.generation, found.generation);
    // Pinned to one generation: a resumed read never mixes two versions of the object.
    const generation = options.generation ?? found.generation;
    const file = bucket.file(this.objectName(key), generation ? { generation: Number(generation) } : {});
    const open = (offset: number): Readable => file.createReadStream({ validation: false, ...(offset > 0 ? { start: offset } : {}) });
    return resilientRead(async (offset) => (generation ? this.pinned(open(offset), key, generation) : open(offset)), {
      policy: this.options.readPolicy ?? DEFAULT_READ_POLICY,
      describe: this.describe(key),
      isPermanent: (error) => [401, 403, 404, 412].includes(statusOf(error) ?? 0),
      onRetry: (message) => process.stderr.write(`warning: ${message}\n`),
    });
  }

  async readRange(key: string, start: number, end: number, options: ReadOptions = {}): Promise<Readable> {
    if (options.generation) {
      const found = await this.stat(key);
      if (found?.generation !== options.generation) throw new GenerationMismatchError(this.describe(key), options.generation, found?.generation ?? null);
    }
    if (end <= start) return (await import('node:stream')).Readable.from([]);
    const file = (await this.bucket).file(this.objectName(key), options.generation ? { generation: Number(options.generation) } : {});
    const read = (offset: number): Readable => file.createReadStream({ start: start + offset, end: end - 1, validation: false, decompress: false });
    // The client's `end` is inclusive; objects are stored without Content-Encoding, so these are the stored bytes.
    // Same idle timeout and resumable retries as a whole read, resumed from where the range broke off.
    return resilientRead(async (offset) => (options.generation ? this.pinned(read(offset), key, options.generation) : read(offset)), {
      policy: this.options.readPolicy ?? DEFAULT_READ_POLICY,
      describe: `${this.describe(key)} bytes ${start}-${end - 1}`,
      isPermanent: (error) => [401, 403, 404, 412, 416].includes(statusOf(error) ?? 0),
      onRetry: (message) => process.stderr.write(`warning: ${message}\n`),
    });
  }

  async readText(key: string): Promise<string> {
    const stream = await this.read(key);
    const chunks: Buffer[] = [];
    // (read() already resumes and times out; anything left here is a final failure)
    try {
      for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
    } catch (error) {
      throw this.translate(error, `reading ${this.describe(key)}`);
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  async stat(key: string): Promise<StoredObject | null> {
    try {
      const [metadata] = await (await this.bucket).file(this.objectName(key)).getMetadata();
      return {
        key,
        size: Number(metadata.size ?? 0),
        updated: new Date(String(metadata.updated ?? metadata.timeCreated ?? 0)),
        generation: String(metadata.generation ?? ''),
      };
    } catch (error) {
      if (statusOf(error) === 404 && !isMissingBucket(error)) return null;
      throw this.translate(error, `reading ${this.describe(key)}`);
    }
  }

  async list(prefix: string): Promise<StoredObject[]> {
    try {
      const [files] = await (await this.bucket).getFiles({ prefix: this.objectName(prefix), autoPaginate: true });
      return files
        .map((f) => ({
          key: this.keyOf(f.name),
          size: Number(f.metadata.size ?? 0),
          updated: new Date(String(f.metadata.updated ?? f.metadata.timeCreated ?? 0)),
          generation: String(f.metadata.generation ?? ''),
        }))
        .sort((a, b) => a.key.localeCompare(b.key));
    } catch (error) {
      // Listing never 404s for a missing prefix, only for a missing bucket.
      throw this.translate(error, `listing ${this.url}`, { notFoundIsBucket: true });
    }
  }

  async delete(key: string, options: DeleteOptions = {}): Promise<void> {
    try {
      if (options.ifGeneration) {
        // Refused early when already replaced (an emulator may not enforce the precondition below).
        const now = await this.stat(key);
        if (!now) return;
        if (now.generation !== options.ifGeneration) throw new ChangedUnderUsError(this.describe(key), options.ifGeneration, now.generation);
      }
      // With ifGeneration the store itself refuses to delete any other version (412).
      await (await this.bucket).file(this.objectName(key)).delete({ ignoreNotFound: true, ...(options.ifGeneration ? { ifGenerationMatch: Number(options.ifGeneration) } : {}) });
    } catch (error) {
      if (options.ifGeneration && statusOf(error) === 412) {
        const now = await this.stat(key).catch(() => null);
        throw new ChangedUnderUsError(this.describe(key), options.ifGeneration, now?.generation ?? 'none');
      }
      throw this.translate(error, `deleting ${this.describe(key)}`);
    }
  }

  /**
   * A read of one generation: the response must say it serves that generation (a store
   * or proxy that answers with another version is refused), and a generation that is no
   * longer there (404) means the object was replaced.
   */
  private pinned(source: Readable, key: string, generation: string): Readable {
    const out = new PassThrough();
    const where = this.describe(key);
    source.on('response', (response: { headers?: Record<string, unknown> }) => {
      const served = response.headers?.['x-goog-generation'];
      if (served !== undefined && String(served) !== generation) {
        out.destroy(new GenerationMismatchError(where, generation, String(served)));
        source.destroy();
      }
    });
    source.on('error', (error: unknown) => out.destroy(statusOf(error) === 404 ? new GenerationMismatchError(where, generation, null) : (error as Error)));
    out.on('close', () => source.destroy());
    source.pipe(out);
    return out;
  }

  private objectName(key: string): string {
    return this.prefix ? joinKey(this.prefix, key) + (key.endsWith('/') ? '/' : '') : key;
  }

  private keyOf(objectName: string): string {
    return this.prefix ? objectName.slice(this.prefix.length + 1) : objectName;
  }

  private translate(error: unknown, action: string, context: { notFoundIsBucket?: boolean } = {}): Error {
    if (error instanceof UserError) return error;
    const status = statusOf(error);
    const message = error instanceof Error ? error.message : String(error);
    if (status === 404 && (context.notFoundIsBucket || isMissingBucket(error))) {
      return new UserError(`${action} failed: bucket gs://${this.bucketName} does not exist`, {
        hint: 'check the store URL, or create the bucket (infra: `pulumi up` for the environment)',
        cause: error,
      });
    }
    if (status === 401 || status === 403) {
      return new UserError(`${action} failed: permission denied (${status}): ${message}`, {
        hint: 'check the workload identity / credentials of this job and its IAM role on the bucket',
        cause: error,
      });
    }
    const code = (error as NodeJS.ErrnoException | null)?.code;
    if (code && ['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT', 'ECONNRESET', 'EAI_AGAIN'].includes(code)) {
      return new UserError(`${action} failed: cannot reach Cloud Storage (${code})`, {
        hint: 'check the network and, for a local emulator, SYRF_GCS_ENDPOINT',
        cause: error,
      });
    }
    return new UserError(`${action} failed: ${message}`, { cause: error });
  }
}

function statusOf(error: unknown): number | undefined {
  const e = error as { code?: unknown; status?: unknown } | null;
  if (typeof e?.code === 'number') return e.code;
  if (typeof e?.status === 'number') return e.status;
  return undefined;
}

function isMissingBucket(error: unknown): boolean {
  return /bucket/i.test(error instanceof Error ? error.message : '') && /not (exist|found)/i.test(String((error as Error).message));
}
