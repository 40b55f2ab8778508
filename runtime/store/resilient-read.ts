/**
 * Every store read goes through here: a read that stops delivering bytes
 * for `idleMs` is abandoned, and a read that fails midway is resumed at the
 * byte it reached (objects are immutable, and GCS reads are pinned to one
 * generation, so resuming is safe), with exponential backoff, a bounded
 * number of times. Then it ends in one clear error instead of hanging or
 * exiting without a word.
 */
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { UserError } from '../errors.js';
import { faultPoint } from '../util/fault.js';

export interface ReadPolicy {
  /** No byte for this long ends the attempt. */
  idleMs: number;
  /** Failed attempts allowed after the first (each resumes where the previous stopped). */
  retries: number;
  /** First backoff; doubles per attempt. */
  backoffMs: number;
}

export const DEFAULT_READ_POLICY: ReadPolicy = { idleMs: 30_000, retries: 5, backoffMs: 500 };

export class IdleTimeoutError extends Error {
  constructor(ms: number) {
    super(`no data for ${ms} ms`);
    this.name = 'IdleTimeoutError';
  }
}

export interface ResilientReadOptions {
  policy: ReadPolicy;
  /** The object's URL, for messages. */
  describe: string;
  /** A failure that retrying cannot fix (missing object, permission) is thrown as is. */
  isPermanent?: (error: unknown) => boolean;
  onRetry?: (message: string) => void;
}

export function resilientRead(open: (offset: number) => Promise<Readable>, options: ResilientReadOptions): Readable {
  const { policy } = options;
  async function* chunks(): AsyncGenerator<Buffer> {
    let offset = 0;
    let failures = 0;
    for (;;) {
      let source: Readable | undefined;
      try {
        source = await withIdleTimeout(open(offset), policy.idleMs);
        for await (const chunk of idleGuarded(source, policy.idleMs)) {
          offset += chunk.length;
          faultPoint('store.read.chunk');
          yield chunk;
        }
        return;
      } catch (error) {
        source?.destroy();
        if (error instanceof UserError || options.isPermanent?.(error)) throw error;
        const reason = describeFailure(error);
        if (failures >= policy.retries) {
          throw new UserError(`reading ${options.describe} failed after ${failures + 1} attempts (stopped at byte ${offset}): ${reason}`, {
            hint: 'the store or the network is unreachable or too slow; check connectivity (and SYRF_GCS_ENDPOINT for an emulator), then re-run; nothing was written from this read',
            cause: error,
          });
        }
        failures++;
        const wait = policy.backoffMs * 2 ** (failures - 1);
        options.onRetry?.(`reading ${options.describe} failed at byte ${offset} (${reason}); retry ${failures} of ${policy.retries} in ${wait} ms`);
        await sleep(wait);
      } finally {
        source?.destroy();
      }
    }
  }
  return Readable.from(chunks(), { objectMode: false });
}

async function* idleGuarded(source: Readable, ms: number): AsyncGenerator<Buffer> {
  const iterator = source[Symbol.asyncIterator]() as AsyncIterator<Buffer | string>;
  for (;;) {
    const next = await withIdleTimeout(iterator.next(), ms);
    if (next.done) return;
    yield typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
  }
}

function withIdleTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new IdleTimeoutError(ms)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function describeFailure(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return code && typeof code === 'string' && !message.includes(code) ? `${code}: ${message}` : message;
}

/** `SYRF_STORE_IDLE_TIMEOUT_MS` and `SYRF_STORE_READ_RETRIES`, checked. */
export function readPolicyFromEnv(env: NodeJS.ProcessEnv = process.env): ReadPolicy {
  const number = (name: string, fallback: number, min: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(value) || value < min) {
      throw new UserError(`${name}="${raw}" is not a whole number ≥ ${min}`, { hint: `unset it (default ${fallback}) or give a number such as ${fallback}`, exitCode: 2 });
    }
    return value;
  };
  return {
    idleMs: number('SYRF_STORE_IDLE_TIMEOUT_MS', DEFAULT_READ_POLICY.idleMs, 100),
    retries: number('SYRF_STORE_READ_RETRIES', DEFAULT_READ_POLICY.retries, 0),
    backoffMs: DEFAULT_READ_POLICY.backoffMs,
  };
}
