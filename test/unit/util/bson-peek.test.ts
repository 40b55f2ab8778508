import { Binary, Decimal128, Long, ObjectId, serialize } from 'bson';
import { describe, expect, it } from 'vitest';
import { peekTopLevelScalar } from '../../../runtime/util/bson-peek.js';
import { mergeLimited } from '../../../runtime/util/async.js';

describe('peekTopLevelScalar', () => {
  const doc = serialize({
    _id: new ObjectId(),
    bin: new Binary(Buffer.alloc(16, 1), 3),
    nested: { SchemaVersion: 99 },
    arr: [1, 'two', { three: 3 }],
    re: /a.b/i,
    dec: Decimal128.fromString('1.5'),
    long: Long.fromNumber(7),
    SchemaVersion: 12,
    label: 'v2',
  });
  it('finds top-level values after every element type, never nested ones', () => {
    expect(peekTopLevelScalar(doc, 'SchemaVersion')).toBe(12);
    expect(peekTopLevelScalar(doc, 'label')).toBe('v2');
    expect(peekTopLevelScalar(doc, 'long')).toBe(7);
    expect(peekTopLevelScalar(doc, 'three')).toBeUndefined();
    expect(peekTopLevelScalar(doc, 'nested')).toBeUndefined();
  });
});

describe('mergeLimited', () => {
  async function* source(name: string, n: number) {
    for (let i = 0; i < n; i++) {
      await new Promise((r) => setTimeout(r, 1));
      yield `${name}${i}`;
    }
  }
  it('keeps each source in order, interleaves them, and never runs more than the limit at once', async () => {
    let active = 0;
    let peak = 0;
    const tracked = (name: string, n: number) => async function* () {
      active++;
      peak = Math.max(peak, active);
      try {
        yield* source(name, n);
      } finally {
        active--;
      }
    };
    const out: string[] = [];
    for await (const item of mergeLimited([tracked('a', 5), tracked('b', 3), tracked('c', 4)], 2)) out.push(item);
    expect([...out].sort()).toEqual(['a0', 'a1', 'a2', 'a3', 'a4', 'b0', 'b1', 'b2', 'c0', 'c1', 'c2', 'c3']);
    for (const name of ['a', 'b', 'c']) {
      const mine = out.filter((x) => x.startsWith(name));
      expect(mine).toEqual([...mine].sort());
    }
    expect(peak).toBe(2);
  });
  it('propagates a failure of any source', async () => {
    async function* failing() {
      yield 'x';
      throw new Error('boom');
    }
    await expect(async () => {
      for await (const _ of mergeLimited([() => failing(), () => source('a', 3)], 2)) void _;
    }).rejects.toThrow('boom');
  });
});
