import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Spool } from '../../../runtime/subset/spool.js';
import { bson, decode } from '../anonymize/helpers.js';

const dirs: string[] = [];
function tempPath(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'syrf-spool-test-'));
  dirs.push(dir);
  return join(dir, name);
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function readBack(spool: Spool, maxDocuments?: number): Promise<Buffer[][]> {
  const batches: Buffer[][] = [];
  for await (const batch of spool.batches(maxDocuments)) batches.push(batch);
  return batches;
}

describe('Spool', () => {
  it('replays documents in order, also those that span read chunks of 1 MiB', async () => {
    // Sizes chosen so documents straddle chunk boundaries at every offset, one spans three chunks.
    const documents = [
      ...Array.from({ length: 3000 }, (_, i) => bson({ i, text: 'x'.repeat((i * 37) % 700) })),
      bson({ i: 3000, text: 'y'.repeat(2.5 * 1024 * 1024) }),
      ...Array.from({ length: 500 }, (_, i) => bson({ i: 3001 + i, text: 'z'.repeat((i * 53) % 900) })),
    ];
    const spool = new Spool(tempPath('a.bson'));
    for (let i = 0; i < documents.length; i += 250) await spool.append(documents.slice(i, i + 250));
    const batches = await readBack(spool, 1000);
    expect(batches.map((b) => b.length)).toEqual([1000, 1000, 1000, 501]);
    const replayed = batches.flat();
    expect(replayed).toHaveLength(documents.length);
    replayed.forEach((bytes, i) => expect(bytes.equals(documents[i]!), `document ${i}`).toBe(true));
    expect(decode(replayed[3000]!).text).toHaveLength(2.5 * 1024 * 1024);
  });

  it('replays a document whose size field itself is split between two chunks', async () => {
    const MiB = 1024 * 1024;
    for (const split of [1, 2, 3]) {
      // { t: string } encodes as 13 bytes plus the string: the second document starts `split` bytes before
      // 1 MiB; the fourth also starts inside its size field, and is longer than the next chunk.
      const first = bson({ t: 'a'.repeat(MiB - split - 13) });
      expect(first.length).toBe(MiB - split);
      const small = bson({ n: split });
      const filler = bson({ t: 'c'.repeat(MiB - small.length - 13) });
      const documents = [first, small, filler, bson({ n: split, t: 'b'.repeat(MiB + 5) }), bson({ n: -1 })];
      const spool = new Spool(tempPath(`split-${split}.bson`));
      await spool.append(documents);
      const replayed = (await readBack(spool)).flat();
      expect(replayed.map((bytes) => bytes.length)).toEqual(documents.map((bytes) => bytes.length));
      replayed.forEach((bytes, i) => expect(bytes.equals(documents[i]!), `split ${split}, document ${i}`).toBe(true));
    }
  });

  it('refuses a file that ends inside a document', async () => {
    const path = tempPath('b.bson');
    const whole = bson({ a: 'complete' });
    const spool = new Spool(path);
    await spool.append([whole]);
    await spool.close();
    writeFileSync(path, Buffer.concat([whole, bson({ b: 'cut short' }).subarray(0, 9)]));
    await expect(readBack(spool)).rejects.toThrow(/ends inside a document/);
  });

  it('refuses a file whose size field is impossible, naming the byte offset', async () => {
    const path = tempPath('c.bson');
    const whole = bson({ a: 1 });
    const spool = new Spool(path);
    await spool.append([whole]);
    await spool.close();
    writeFileSync(path, Buffer.concat([whole, Buffer.from([2, 0, 0, 0, 0])]));
    await expect(readBack(spool)).rejects.toThrow(new RegExp(`corrupt at byte ${whole.length}`));
  });
});
