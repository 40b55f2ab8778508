/**
 * Who is writing a snapshot id. The first object a run writes under
 * `prod/<id>/` is ATTEMPT.json, created only if absent, so of two runs with
 * the same id exactly one owns it. A later run may replace an earlier
 * attempt only when that attempt is provably over (it failed, finished, or
 * its process is gone), and it deletes only the exact versions it looked at:
 * an object another run wrote in the meantime has another generation, so the
 * store refuses the delete and this run stops without touching it.
 */
import { hostname } from 'node:os';
import { ExitCode, UserError } from '../errors.js';
import type { Logger } from '../ops/log.js';
import { AlreadyExistsError, type Store, type StoredObject } from '../store/store.js';
import { FAILED_FILE, LATEST_KEY, MANIFEST_FILE, formatLatest, snapshotKeys } from '../store/layout.js';
import { isProcessAlive } from '../util/process.js';
import { faultPoint } from '../util/fault.js';
import { listSnapshots } from './catalog.js';

export const ATTEMPT_FILE = 'ATTEMPT.json';

/**
 * An attempt from another host cannot be asked whether it still runs; after the
 * producer Job's deadline (infra/producer.ts, 4 h) Kubernetes has killed it.
 */
export const FOREIGN_ATTEMPT_STALE_MS = 4 * 3600_000 + 10 * 60_000;

interface AttemptRecord {
  host: string;
  pid: number;
  startedAt: string;
}

export interface Claim {
  key: string;
  generation: string;
}

/** Claims `id` for this run, replacing an earlier attempt only when it is over. */
export async function claimSnapshotId(store: Store, id: string, logger: Logger, now: () => Date = () => new Date()): Promise<Claim> {
  const keys = snapshotKeys(id);
  const key = keys.dir + ATTEMPT_FILE;
  const existing = await store.list(keys.dir);
  if (existing.length > 0) await replaceEarlierAttempt(store, id, existing, logger, now);
  const record: AttemptRecord = { host: hostname(), pid: process.pid, startedAt: now().toISOString() };
  try {
    const written = await store.write(key, JSON.stringify(record) + '\n', { contentType: 'application/json', ifAbsent: true });
    return { key, generation: written.generation };
  } catch (error) {
    if (error instanceof AlreadyExistsError) throw inProgress(id, store.describe(key));
    throw error;
  }
}

/** The claim goes once the snapshot is complete (or this run lost the id to another): a finished snapshot holds no ATTEMPT.json. */
export async function releaseClaim(store: Store, claim: Claim): Promise<void> {
  await store.delete(claim.key, { ifGeneration: claim.generation }).catch(() => undefined);
}

async function replaceEarlierAttempt(store: Store, id: string, existing: StoredObject[], logger: Logger, now: () => Date): Promise<void> {
  const find = (name: string) => existing.find((o) => o.key.endsWith(`/${name}`));
  const attempt = find(ATTEMPT_FILE);
  const failed = find(FAILED_FILE);
  if (attempt && !failed) {
    const holder = await readAttempt(store, attempt.key);
    const over = holder ? attemptIsOver(holder, attempt, now()) : now().getTime() - attempt.updated.getTime() > FOREIGN_ATTEMPT_STALE_MS;
    if (!over) throw inProgress(id, store.describe(attempt.key), holder);
  }
  const snapshots = await listSnapshots(store);
  const current = snapshots.find((s) => s.id === id);
  if (current?.isLatest) {
    const fallback = snapshots.find((s) => s.id !== id && s.status === 'complete');
    if (fallback) {
      await store.write(LATEST_KEY, formatLatest(fallback.id), { contentType: 'text/plain' });
      logger.warn(`replacing snapshot ${id}, which latest.txt pointed to; latest.txt points to ${fallback.id} until it is done`);
    } else {
      await store.delete(LATEST_KEY);
      logger.warn(`replacing snapshot ${id}, the only complete snapshot; latest.txt is removed until it is done`);
    }
  } else {
    logger.info(`replacing the earlier attempt of snapshot ${id} (${current?.status ?? 'partial'}${find(MANIFEST_FILE) ? '' : ', no manifest'})`);
  }
  faultPoint('snapshot.replace');
  // Exactly the versions listed above: another run's newer objects are refused by the store, not deleted.
  for (const object of existing) await store.delete(object.key, { ifGeneration: object.generation });
}

function attemptIsOver(holder: AttemptRecord, object: StoredObject, at: Date): boolean {
  if (holder.host === hostname()) return holder.pid !== process.pid && !isProcessAlive(holder.pid);
  return at.getTime() - object.updated.getTime() > FOREIGN_ATTEMPT_STALE_MS;
}

async function readAttempt(store: Store, key: string): Promise<AttemptRecord | null> {
  try {
    const parsed = JSON.parse(await store.readText(key)) as Partial<AttemptRecord>;
    return typeof parsed.host === 'string' && Number.isInteger(parsed.pid) && typeof parsed.startedAt === 'string' ? (parsed as AttemptRecord) : null;
  } catch {
    return null;
  }
}

function inProgress(id: string, where: string, holder?: AttemptRecord | null): UserError {
  const who = holder ? ` (pid ${holder.pid} on ${holder.host}, started ${holder.startedAt})` : '';
  return new UserError(`snapshot ${id} is being written by another run${who}: ${where} already exists: another run wrote it first`, {
    hint: 'two runs with the same snapshot id ran at once; this one stopped without touching the other\'s objects. Use another --id, or retry once the other run finished (a killed run\'s attempt is replaced once its process is gone)',
    exitCode: ExitCode.refused,
  });
}
