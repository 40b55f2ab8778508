/** A Store that counts the bytes it serves and records every read, to prove what a restore did not read. */
import { Transform, type Readable } from 'node:stream';
import type { DeleteOptions, ReadOptions, Store, StoredObject, WriteOptions, WrittenObject } from '../../runtime/store/store.js';

export class CountingStore implements Store {
  bytesServed = 0;
  readonly reads: Array<{ key: string; start?: number; end?: number }> = [];

  constructor(private readonly inner: Store) {}

  get url(): string {
    return this.inner.url;
  }

  write(key: string, body: Readable | Buffer | string, options?: WriteOptions): Promise<WrittenObject> {
    return this.inner.write(key, body, options);
  }

  async read(key: string, options?: ReadOptions): Promise<Readable> {
    this.reads.push({ key });
    return this.counted(await this.inner.read(key, options));
  }

  async readRange(key: string, start: number, end: number, options?: ReadOptions): Promise<Readable> {
    this.reads.push({ key, start, end });
    return this.counted(await this.inner.readRange(key, start, end, options));
  }

  readText(key: string): Promise<string> {
    return this.inner.readText(key);
  }

  stat(key: string): Promise<StoredObject | null> {
    return this.inner.stat(key);
  }

  list(prefix: string): Promise<StoredObject[]> {
    return this.inner.list(prefix);
  }

  delete(key: string, options?: DeleteOptions): Promise<void> {
    return this.inner.delete(key, options);
  }

  describe(key: string): string {
    return this.inner.describe(key);
  }

  private counted(stream: Readable): Readable {
    const counter = new Transform({
      transform: (chunk: Buffer, _encoding, callback) => {
        this.bytesServed += chunk.length;
        callback(null, chunk);
      },
    });
    stream.on('error', (error) => counter.destroy(error));
    return stream.pipe(counter);
  }
}
