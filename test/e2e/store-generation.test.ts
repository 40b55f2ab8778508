/**
 * Store-level version pinning, through the real @google-cloud/storage client
 * against fake-gcs-server and through the file store: a read pinned to a
 * generation refuses any other version (even byte-identical), a read already
 * open keeps its version, a conditional delete removes only the version it
 * names, and a store answering with another generation than asked is refused.
 */
import { createServer, request, type Server } from 'node:http';
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileStore } from '../../runtime/store/file-store.js';
import { GcsStore } from '../../runtime/store/gcs-store.js';
import { ChangedUnderUsError, GenerationMismatchError, type Store } from '../../runtime/store/store.js';
import { createBucket, gcsEndpoint, tempDir } from '../support/servers.js';

async function text(stream: AsyncIterable<unknown>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString();
}

describe('object generations', () => {
  const dir = tempDir();
  afterAll(() => dir.remove());

  const stores: Array<[string, () => Promise<Store>]> = [
    ['file://', async () => new FileStore(join(dir.path, `s-${Math.random().toString(36).slice(2)}`))],
    ['gs:// (fake-gcs-server)', async () => new GcsStore(await createBucket(), 'p', { apiEndpoint: gcsEndpoint(), maxRetries: 0 })],
  ];

  it.each(stores)('%s: a write reports the generation that stat, list and a pinned read agree on; a replacement (even byte-identical) is refused', async (_name, make) => {
    const store = await make();
    const first = await store.write('a/dump.gz', 'same bytes');
    expect(first.generation).toMatch(/^(\d+|f:\d+:\d+:\d+:\d+)$/);
    expect((await store.stat('a/dump.gz'))?.generation).toBe(first.generation);
    expect((await store.list('a/')).map((o) => o.generation)).toEqual([first.generation]);
    expect(await text(await store.read('a/dump.gz', { generation: first.generation }))).toBe('same bytes');
    expect(await text(await store.readRange('a/dump.gz', 5, 10, { generation: first.generation }))).toBe('bytes');

    const second = await store.write('a/dump.gz', 'same bytes');
    expect(second.generation).not.toBe(first.generation);
    await expect(store.read('a/dump.gz', { generation: first.generation })).rejects.toThrow(GenerationMismatchError);
    await expect(store.readRange('a/dump.gz', 0, 4, { generation: first.generation })).rejects.toThrow(/not the version its manifest names|no longer exists/);
    expect(await text(await store.read('a/dump.gz', { generation: second.generation }))).toBe('same bytes');
  });

  it.each(stores)('%s: a conditional delete removes only the version it names', async (_name, make) => {
    const store = await make();
    const old = await store.write('b/x', 'old');
    const current = await store.write('b/x', 'new');
    await expect(store.delete('b/x', { ifGeneration: old.generation })).rejects.toThrow(ChangedUnderUsError);
    expect(await store.readText('b/x')).toBe('new');
    expect((await store.stat('b/x'))?.generation).toBe(current.generation);
    await store.delete('b/x', { ifGeneration: current.generation });
    expect(await store.stat('b/x')).toBeNull();
    // Already gone: nothing to refuse.
    await store.delete('b/x', { ifGeneration: current.generation });
  });

  it('file://: a read opened before the file is replaced keeps reading the version it opened', async () => {
    const root = join(dir.path, 'open-read');
    const store = new FileStore(root);
    const first = await store.write('c/dump.gz', 'A'.repeat(100_000));
    const stream = (await store.read('c/dump.gz', { generation: first.generation }))[Symbol.asyncIterator]();
    const head = Buffer.from((await stream.next()).value as Buffer).toString();
    await writeFile(join(root, 'c/new'), 'B'.repeat(100_000));
    await rename(join(root, 'c/new'), join(root, 'c/dump.gz'));
    expect(head + (await text({ [Symbol.asyncIterator]: () => stream }))).toBe('A'.repeat(100_000));
  });

  it('gs://: a store that serves another generation than the one asked for is refused', async () => {
    const bucket = await createBucket();
    const direct = new GcsStore(bucket, '', { apiEndpoint: gcsEndpoint(), maxRetries: 0 });
    const written = await direct.write('d/dump.gz', 'payload');
    // A proxy that answers every request as the store would, but claims another generation.
    const upstream = new URL(gcsEndpoint());
    const server: Server = createServer((req, res) => {
      const forward = request({ host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers }, (up) => {
        const headers = { ...up.headers };
        if (headers['x-goog-generation']) headers['x-goog-generation'] = '1';
        res.writeHead(up.statusCode ?? 500, headers);
        up.pipe(res);
      });
      req.pipe(forward);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const address = server.address() as { port: number };
      const lying = new GcsStore(bucket, '', { apiEndpoint: `http://127.0.0.1:${address.port}`, maxRetries: 0 });
      await expect(text(await lying.read('d/dump.gz', { generation: written.generation }))).rejects.toThrow(GenerationMismatchError);
      await expect(text(await lying.readRange('d/dump.gz', 0, 3, { generation: written.generation }))).rejects.toThrow(GenerationMismatchError);
    } finally {
      server.close();
    }
  });
});
