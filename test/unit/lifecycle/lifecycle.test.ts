import { describe, expect, it } from 'vitest';
import type { MongoClient } from 'mongodb';
import { parseWait, waitForDatabase } from '../../../runtime/lifecycle/wait-for-database.js';
import { decide, parseAge, parseOpenPrs } from '../../../runtime/lifecycle/sweep.js';
import { checkDropTarget } from '../../../runtime/lifecycle/drop.js';

/** A clock that only moves when the code under test sleeps. */
function fakeClock() {
  let t = 0;
  return { now: () => t, sleep: async (ms: number) => void (t += ms) };
}

describe('waiting for a database user', () => {
  it('retries until the credentials authenticate, then reports the attempts', async () => {
    const clock = fakeClock();
    let calls = 0;
    const connect = async () => {
      calls++;
      if (calls < 4) throw new Error('Authentication failed.');
      return { close: async () => undefined } as unknown as MongoClient;
    };
    expect(await waitForDatabase({ connect, timeoutMs: 60_000, ...clock })).toBe(4);
    expect(clock.now()).toBe(1_000 + 2_000 + 4_000);
  });

  it('gives up with one clear error once the wait is over', async () => {
    const clock = fakeClock();
    const connect = async (): Promise<MongoClient> => {
      throw new Error('Authentication failed.');
    };
    await expect(waitForDatabase({ connect, timeoutMs: 30_000, ...clock })).rejects.toThrow(/did not accept these credentials within the wait: Authentication failed/);
    expect(clock.now()).toBeLessThanOrEqual(30_000);
  });

  it('parses waits and refuses nonsense', () => {
    expect(parseWait('15m')).toBe(900_000);
    expect(parseWait('90s')).toBe(90_000);
    for (const bad of ['', '15', '0m', '-1m', '1h', '1.5m']) expect(() => parseWait(bad), bad).toThrow(/not a duration/);
  });
});

describe('sweep decisions', () => {
  const DAY = 86_400_000;
  it('drops closed PRs and expired databases, keeps open fresh ones', () => {
    const open = new Set([1, 2]);
    expect(decide('syrf_pr_3', 3, 0, open, 14 * DAY)).toMatchObject({ action: 'drop', reason: 'pr-not-open' });
    expect(decide('syrf_pr_2', 2, 15 * DAY, open, 14 * DAY)).toMatchObject({ action: 'drop', reason: 'older-than-limit' });
    expect(decide('syrf_pr_1', 1, 13 * DAY, open, 14 * DAY)).toMatchObject({ action: 'keep' });
  });

  it('reads gh output or plain numbers, and refuses anything that could mean "none open" by accident', () => {
    expect([...parseOpenPrs('[{"number": 5}, {"number": 7}]')]).toEqual([5, 7]);
    expect([...parseOpenPrs('[5, 7]')]).toEqual([5, 7]);
    expect(parseOpenPrs('[]').size).toBe(0);
    for (const bad of ['', 'null', '{}', '[null]', '[1.5]', '["5"]', '[{"number": "5"}]', '[-3]']) {
      expect(() => parseOpenPrs(bad), bad).toThrow(/nothing was dropped/);
    }
    expect(parseAge('14d')).toBe(14 * DAY);
    expect(() => parseAge('0d')).toThrow();
  });

  it('drops only preview databases', () => {
    expect(() => checkDropTarget('syrf_pr_9')).not.toThrow();
    for (const bad of ['syrftest', 'syrf_staging', 'syrf_pr_0', 'syrf_pr_09', 'admin', 'syrf_pr_9x']) expect(() => checkDropTarget(bad), bad).toThrow();
  });
});
