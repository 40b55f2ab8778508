/**
 * Waits until a database user can authenticate. A Job whose Atlas user was just
 * declared starts before the operator has created that user in Atlas; this runs as
 * the Job's init step so the real work starts only once the credentials work,
 * instead of burning retries on "authentication failed".
 */
import type { MongoClient } from 'mongodb';
import { ExitCode, UserError } from '../errors.js';

export interface WaitOptions {
  connect: () => Promise<MongoClient>;
  timeoutMs: number;
  /** Injected so tests run without real time passing. */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  onRetry?: (attempt: number, error: string) => void;
}

/** `15m`, `90s`: a wait as milliseconds. */
export function parseWait(text: string): number {
  const match = /^([1-9]\d{0,4})(s|m)$/.exec(text.trim());
  if (!match) throw new UserError(`--wait "${text}" is not a duration`, { hint: 'use whole seconds or minutes, e.g. 90s or 15m', exitCode: ExitCode.usage });
  return Number(match[1]) * (match[2] === 'm' ? 60_000 : 1_000);
}

/** Resolves with the number of attempts it took; throws the last error once the time is up. */
export async function waitForDatabase(options: WaitOptions): Promise<number> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((done) => setTimeout(done, ms)));
  const deadline = now() + options.timeoutMs;
  let delay = 1_000;
  for (let attempt = 1; ; attempt++) {
    try {
      const client = await options.connect();
      await client.close();
      return attempt;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (now() + delay > deadline) {
        throw new UserError(`the database did not accept these credentials within the wait: ${message}`, {
          hint: 'check that the database user exists (kubectl get atlasdatabaseusers) and that its Secret matches',
          exitCode: ExitCode.failure,
        });
      }
      options.onRetry?.(attempt, message);
      await sleep(delay);
      delay = Math.min(delay * 2, 15_000);
    }
  }
}
