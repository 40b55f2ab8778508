/** The restore lock against the real server: one holder at a time, stale locks taken over by heartbeat (server time), only our own lock released. */
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Db, MongoClient } from 'mongodb';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ExitCode, UserError } from '../../runtime/errors.js';
import { acquireRestoreLock, LOCK_COLLECTION, type LockDocument } from '../../runtime/restore/lock.js';
import { connectMongo, uniqueDbName } from '../support/servers.js';

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
  afterEach(() => {
    vi.useRealTimers();
  });
  afterAll(async () => {
    for (const name of databases) await client.db(name).dropDatabase();
    await client.close();
  });

  const lockDocument = () => db.collection<LockDocument>(LOCK_COLLECTION).findOne({ _id: 'restore' });

  it('records who holds it, and refuses a second holder with who, its last heartbeat and what to do', async () => {
    const first = await acquireRestoreLock(db, { holder: 'restore job A', heartbeatMs: 0 });
    const stored = await lockDocument();
    expect(stored).toMatchObject({ holder: 'restore job A', pid: process.pid, token: first.token, host: hostname() });
    expect(stored!.beatAt).toBeInstanceOf(Date);

    const error = await acquireRestoreLock(db, { holder: 'restore job B', heartbeatMs: 0 }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(UserError);
    const refusal = error as UserError;
    expect(refusal.exitCode).toBe(ExitCode.refused);
    expect(refusal.message).toContain(`${db.databaseName} is locked by another restore: held by restore job A (host ${stored!.host}, pid ${process.pid})`);
    expect(refusal.message).toMatch(/last heartbeat \d+\.\d s ago/);
    expect(refusal.hint).toMatch(/wait for that restore to finish and retry/);
    expect(refusal.hint).toMatch(/syrf-db recover/);

    await first.release();
    expect(await lockDocument()).toBeNull();
    const again = await acquireRestoreLock(db, { holder: 'restore job B', heartbeatMs: 0 });
    expect((await lockDocument())?.holder).toBe('restore job B');
    await again.release();
    await again.release();
  });

  it('takes over within seconds a lock whose heartbeat stopped; the dead holder can neither beat nor release it afterwards', async () => {
    const dead = await acquireRestoreLock(db, { holder: 'killed restore', heartbeatMs: 0, staleAfterMs: 400 });
    // Another host's holder: only its heartbeat can tell whether it lives.
    await db.collection<LockDocument>(LOCK_COLLECTION).updateOne({ _id: 'restore' }, { $set: { host: 'another-pod' } });
    await expect(acquireRestoreLock(db, { holder: 'too early', heartbeatMs: 0 })).rejects.toThrow(/held by killed restore/);
    await sleep(700);

    const started = Date.now();
    const next = await acquireRestoreLock(db, { holder: 'next restore', heartbeatMs: 0 });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(next.takenOverFrom).toMatchObject({ holder: 'killed restore', token: dead.token });
    expect(await lockDocument()).toMatchObject({ holder: 'next restore', token: next.token });

    await expect(dead.heartbeat()).rejects.toThrow(/lost the restore lock/);
    await dead.release();
    expect(await lockDocument()).toMatchObject({ holder: 'next restore' });
    await next.release();
    expect(await lockDocument()).toBeNull();
  });

  it('a holder that keeps beating is never taken over, however long it runs', async () => {
    const holder = await acquireRestoreLock(db, { holder: 'slow restore', heartbeatMs: 100, staleAfterMs: 500 });
    await db.collection<LockDocument>(LOCK_COLLECTION).updateOne({ _id: 'restore' }, { $set: { host: 'another-pod' } });
    await sleep(1200);
    await expect(acquireRestoreLock(db, { holder: 'impatient restore', heartbeatMs: 0 })).rejects.toThrow(/held by slow restore/);
    expect(await lockDocument()).toMatchObject({ holder: 'slow restore', token: holder.token });
    await holder.release();
  });

  it('judges staleness by the server clock: a contender whose clock runs hours ahead cannot take a live lock', async () => {
    const holder = await acquireRestoreLock(db, { holder: 'live restore', heartbeatMs: 0 });
    await db.collection<LockDocument>(LOCK_COLLECTION).updateOne({ _id: 'restore' }, { $set: { host: 'another-pod' } });
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date(Date.now() + 6 * 3600_000));
    const contender = await acquireRestoreLock(db, { holder: 'skewed clock', heartbeatMs: 0 }).then(
      (lock) => lock,
      (e: unknown) => e,
    );
    vi.useRealTimers();
    expect(contender).toBeInstanceOf(UserError);
    expect(await lockDocument()).toMatchObject({ holder: 'live restore', token: holder.token });
    await holder.release();
  });

  it('takes over at once a lock whose holder ran on this host and whose process is gone', async () => {
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
    const pid = Number(gone.stdout.toString());
    await db.collection(LOCK_COLLECTION).insertOne({ _id: 'restore' as never, holder: 'killed', token: 't', host: hostname(), pid, acquiredAt: new Date(), beatAt: new Date(), staleAfterMs: 3_600_000 });
    const next = await acquireRestoreLock(db, { holder: 'next', heartbeatMs: 0 });
    expect(next.takenOverFrom).toMatchObject({ holder: 'killed', pid });
    await next.release();
  });

  it('waits for a live holder that finishes, instead of refusing at once', async () => {
    const first = await acquireRestoreLock(db, { holder: 'finishing restore', heartbeatMs: 0 });
    setTimeout(() => void first.release(), 300);
    const second = await acquireRestoreLock(db, { holder: 'patient restore', heartbeatMs: 0, waitMs: 5_000 });
    expect(second.takenOverFrom).toBeUndefined();
    expect(await lockDocument()).toMatchObject({ holder: 'patient restore' });
    await second.release();
  });

  it('lets exactly one of several simultaneous restores in', async () => {
    const attempts = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => acquireRestoreLock(db, { holder: `racer ${i}`, heartbeatMs: 0 })));
    const winners = attempts.filter((a) => a.status === 'fulfilled');
    expect(winners).toHaveLength(1);
    for (const loser of attempts.filter((a) => a.status === 'rejected')) {
      expect((loser as PromiseRejectedResult).reason).toBeInstanceOf(UserError);
    }
    await (winners[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof acquireRestoreLock>>>).value.release();
  });
});
