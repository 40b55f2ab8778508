/**
 * Dropping a preview database when its PR is gone. Only names of the form
 * syrf_pr_<N> may be dropped: the restore guard runs with that single pattern as
 * its allowlist, so staging and production stay refused whatever the caller passes.
 */
import type { MongoClient } from 'mongodb';
import { PREVIEW_DATABASE_PATTERN } from '../contract/databases.js';
import { checkRestoreTarget } from '../restore/guard.js';
import { acquireRestoreLock } from '../restore/lock.js';

export const PREVIEW_ONLY: readonly RegExp[] = [PREVIEW_DATABASE_PATTERN];

/** Throws the guard's UserError unless `target` is a preview database that may be dropped. */
export function checkDropTarget(target: string): void {
  checkRestoreTarget({ target, sourceDb: '', allowlist: PREVIEW_ONLY });
}

export interface DropResult {
  target: string;
  dropped: boolean;
}

export async function existingDatabases(client: MongoClient): Promise<Set<string>> {
  const result = await client.db('admin').admin().listDatabases({ nameOnly: true });
  return new Set(result.databases.map((d) => d.name));
}

/**
 * Drops one preview database. A restore into it holds the restore lock; taking that
 * lock first means a drop never pulls a database out from under a running restore
 * (it fails with the lock holder's name instead). Dropping what does not exist is a no-op.
 */
export async function dropPreviewDatabase(client: MongoClient, target: string, holder: string): Promise<DropResult> {
  checkDropTarget(target);
  if (!(await existingDatabases(client)).has(target)) return { target, dropped: false };
  const db = client.db(target);
  const lock = await acquireRestoreLock(db, { holder, heartbeatMs: 0 });
  try {
    await db.dropDatabase();
  } catch (error) {
    await lock.release().catch(() => undefined);
    throw error;
  }
  // The lock document went with the database.
  return { target, dropped: true };
}
