/** The restore lock against the real server: one holder at a time, stale locks taken over, only our own lock released. */
import type { Db, MongoClient } from 'mongodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ExitCode, UserError } from '../../runtime/errors.js';
import { acquireRestoreLock, LOCK_COLLECTION, type LockDocument } from '../../runtime/restore/lock.js';
import { connectMongo, uniqueDbName } from '../support/servers.js';

const TTL = 10 * 60_000;

describe('restore lock', () => {
  let client: MongoClient;
  let db: Db;
  const databases: string[] = [];

  beforeAll(async () => {
    client = await connectMongo();
  });
  beforeEach(() => {
    const name = uniqueDbName('syrf_pr_');
    databases.push(name);
    db = client.db(name);
  });
  afterAll(async () => {
    for (const name of databases) await client.db(name).dropDatabase();
    await client.close();
  });

  const lockDocument = () => db.collection<LockDocument>(LOCK_COLLECTION).findOne({ _id: 'restore' });

  it('records who holds it, and refuses a second holder with who, until when and what to do', async () => {
    const before = Date.now();
    const first = await acquireRestoreLock(db, { ttlMs: TTL, holder: 'restore job A', heartbeatMs: 0 });
    const stored = await lockDocument();
    expect(stored).toMatchObject({ holder: 'restore job A', pid: process.pid, token: first.token });
    expect(stored!.expiresAt.getTime()).toBeGreaterThanOrEqual(before + TTL);

    const error = await acquireRestoreLock(db, { ttlMs: TTL, holder: 'restore job B', heartbeatMs: 0 }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(UserError);
    const refusal = error as UserError;
    expect(refusal.exitCode).toBe(ExitCode.refused);
    expect(refusal.message).toContain(`${db.databaseName} is locked by another restore: held by restore job A (host ${stored!.host}, pid ${process.pid})`);
    expect(refusal.message).toContain(`expires ${stored!.expiresAt.toISOString()}`);
    expect(refusal.hint).toMatch(/wait for that restore to finish and retry/);
    expect(refusal.hint).toContain(`db.getSiblingDB("${db.databaseName}").${LOCK_COLLECTION}.deleteOne({ _id: "restore" })`);

    await first.release();
    expect(await lockDocument()).toBeNull();
    const again = await acquireRestoreLock(db, { ttlMs: TTL, holder: 'restore job B', heartbeatMs: 0 });
    expect((await lockDocument())?.holder).toBe('restore job B');
    await again.release();
    await again.release();
  });

  it('takes over an expired lock; the dead holder can neither extend nor release it afterwards', async () => {
    const longAgo = () => new Date(Date.now() - 2 * TTL);
    const dead = await acquireRestoreLock(db, { ttlMs: TTL, holder: 'killed restore', heartbeatMs: 0, now: longAgo });

    const next = await acquireRestoreLock(db, { ttlMs: TTL, holder: 'next restore', heartbeatMs: 0 });
    expect(next.takenOverFrom).toMatchObject({ holder: 'killed restore', token: dead.token });
    expect(await lockDocument()).toMatchObject({ holder: 'next restore', token: next.token });

    await expect(dead.heartbeat()).rejects.toThrow(/lost the restore lock/);
    await dead.release();
    expect(await lockDocument()).toMatchObject({ holder: 'next restore' });
    await next.release();
    expect(await lockDocument()).toBeNull();
  });

  it('does not take over a lock that has not expired yet', async () => {
    const holder = await acquireRestoreLock(db, { ttlMs: TTL, holder: 'slow restore', heartbeatMs: 0 });
    await expect(acquireRestoreLock(db, { ttlMs: TTL, holder: 'impatient restore', heartbeatMs: 0 })).rejects.toThrow(/held by slow restore/);
    expect(await lockDocument()).toMatchObject({ holder: 'slow restore', token: holder.token });
    await holder.release();
  });

  it('heartbeat pushes the expiry forward, so a long restore keeps its lock', async () => {
    let now = Date.now();
    const lock = await acquireRestoreLock(db, { ttlMs: TTL, holder: 'long restore', heartbeatMs: 0, now: () => new Date(now) });
    const first = (await lockDocument())!.expiresAt.getTime();
    now += 5 * 60_000;
    await lock.heartbeat();
    expect((await lockDocument())!.expiresAt.getTime()).toBe(first + 5 * 60_000);
    await lock.release();
  });

  it('lets exactly one of several simultaneous restores in', async () => {
    const attempts = await Promise.allSettled(
      Array.from({ length: 6 }, (_, i) => acquireRestoreLock(db, { ttlMs: TTL, holder: `racer ${i}`, heartbeatMs: 0 })),
    );
    const winners = attempts.filter((a) => a.status === 'fulfilled');
    expect(winners).toHaveLength(1);
    for (const loser of attempts.filter((a) => a.status === 'rejected')) {
      expect((loser as PromiseRejectedResult).reason).toBeInstanceOf(UserError);
    }
    await (winners[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof acquireRestoreLock>>>).value.release();
  });
});
