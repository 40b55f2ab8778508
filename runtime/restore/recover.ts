import type { MongoClient } from 'mongodb';
import type { Logger } from '../ops/log.js';
import { checkRestoreTarget, STAGING_CONFIRMATION } from './guard.js';
import { finishUnderLock, type RecoveryReport } from './into-target.js';
import type { AcquireLockOptions } from './lock.js';

export interface RecoverOptions {
  client: MongoClient;
  target: string;
  holder: string;
  logger: Logger;
  guard?: { allowlist?: RegExp[]; productionNames?: string[] };
  lock?: Pick<AcquireLockOptions, 'staleAfterMs' | 'waitMs'>;
}

/**
 * Finishes what a killed restore or clone left in `target`: an interrupted
 * swap is rolled forward, temporaries are dropped, the lock is released.
 * A live run's lock is respected (refused after waiting for it to go stale).
 */
export async function recoverTarget(options: RecoverOptions): Promise<RecoveryReport> {
  // Recovery only completes what a run that already passed the guard (and the staging confirmation) started.
  checkRestoreTarget({ target: options.target, sourceDb: '', confirm: STAGING_CONFIRMATION, ...options.guard });
  return finishUnderLock(options.client.db(options.target), options);
}
