import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ArchiveEvent } from '../../../runtime/archive/types.js';
import { keyedOrder } from '../../../runtime/anonymize/order.js';
import { OTHER_KEY, TEST_KEY, bson, collect, eof, fromArray, prelude } from './helpers.js';

describe('keyedOrder', () => {
  const docs = Array.from({ length: 3000 }, (_, i) => bson({ _id: i, pad: 'x'.repeat(i % 300) }));
  const events = (list: Buffer[]): ArchiveEvent[] => [
    prelude('c'),
    ...Array.from({ length: Math.ceil(list.length / 250) }, (_, i) => ({ type: 'segment' as const, db: 'syrftest', collection: 'c', documents: list.slice(i * 250, i * 250 + 250) })),
    eof('c'),
  ];
  const order = (out: ArchiveEvent[]) => out.flatMap((e) => (e.type === 'segment' ? e.documents.map((d) => d.toString('hex')) : []));

  it('gives the same keyed order in memory and through spilled runs, whatever the input order, and cleans up', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'syrf-order-test-'));
    const inMemory = order(await collect(keyedOrder(fromArray(events(docs)), TEST_KEY)));
    const spilled = order(await collect(keyedOrder(fromArray(events([...docs].reverse())), TEST_KEY, { tempDir: dir, runBytes: 20_000 })));
    expect(spilled).toEqual(inMemory);
    expect(new Set(inMemory)).toEqual(new Set(docs.map((d) => d.toString('hex'))));
    expect(inMemory).not.toEqual(docs.map((d) => d.toString('hex')));
    expect(readdirSync(dir)).toEqual([]);
    // Another key, another order: the order says nothing without the key.
    expect(order(await collect(keyedOrder(fromArray(events(docs)), OTHER_KEY)))).not.toEqual(inMemory);
  });
});
