import { randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { createParallelGzip } from '../../../runtime/archive/parallel-gzip.js';
import { seededRandom } from '../../support/random.js';

/** Compressible but not trivially so: words with random noise, like archive text. */
function sampleBytes(length: number, seed: number): Buffer {
  const random = seededRandom(seed);
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i++) out[i] = random() < 0.8 ? 97 + Math.floor(random() * 6) : Math.floor(random() * 256);
  return out;
}

/** Splits `data` into chunks of uneven sizes, as a stream would deliver them. */
function unevenChunks(data: Buffer, seed: number): Buffer[] {
  const random = seededRandom(seed);
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < data.length; ) {
    const size = 1 + Math.floor(random() * 40_000);
    chunks.push(data.subarray(offset, offset + size));
    offset += size;
  }
  return chunks;
}

async function compress(chunks: Buffer[], options: Parameters<typeof createParallelGzip>[0]): Promise<Buffer> {
  const parts: Buffer[] = [];
  await pipeline(
    Readable.from(chunks),
    createParallelGzip(options),
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        parts.push(chunk);
        callback();
      },
    }),
  );
  return Buffer.concat(parts);
}

describe('parallel gzip', () => {
  it.each([
    ['empty input', 0],
    ['less than one block', 10_000],
    ['exactly one block', 64 * 1024],
    ['many blocks, several in flight at once', 1_500_000],
  ])('gunzips back to exactly the input: %s', async (_name, length) => {
    const data = sampleBytes(length, length + 1);
    const compressed = await compress(unevenChunks(data, 7), { blockBytes: 64 * 1024, concurrency: 4, level: 6 });
    expect(gunzipSync(compressed).equals(data)).toBe(true);
  });

  it('is read as one stream by a streaming gunzip, as archive readers consume it', async () => {
    const data = Buffer.concat([sampleBytes(300_000, 1), randomBytes(200_000)]);
    const compressed = await compress(unevenChunks(data, 3), { blockBytes: 64 * 1024, concurrency: 3 });
    const parts: Buffer[] = [];
    for await (const chunk of Readable.from([compressed]).pipe(createGunzip())) parts.push(chunk as Buffer);
    expect(Buffer.concat(parts).equals(data)).toBe(true);
  });

  it('costs little compression: with the default 4 MiB blocks the output stays within 1% of one gzip stream', async () => {
    const { gzipSync } = await import('node:zlib');
    const data = sampleBytes(9_000_000, 11);
    const compressed = await compress(unevenChunks(data, 5), {});
    expect(compressed.length).toBeLessThan(gzipSync(data).length * 1.01);
  });

  it('refuses a compression level zlib does not have', () => {
    expect(() => createParallelGzip({ level: 12 })).toThrow(/gzip level must be an integer from -1 to 9/);
  });

  it('passes a failure of its consumer on instead of hanging', async () => {
    const failing = new Writable({
      write(_chunk, _encoding, callback) {
        callback(new Error('disk full'));
      },
    });
    await expect(pipeline(Readable.from(unevenChunks(sampleBytes(500_000, 2), 9)), createParallelGzip({ blockBytes: 64 * 1024 }), failing)).rejects.toThrow('disk full');
  });
});
