/**
 * A collection's (already anonymized) documents parked on disk until the
 * collection it follows has ended, so interleaved archives never make us
 * hold a whole collection in memory. BSON documents are self-delimiting, so
 * the file is just their concatenation.
 */
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import { rm } from 'node:fs/promises';

export class Spool {
  private readonly out: WriteStream;
  private closed = false;
  documents = 0;

  constructor(readonly path: string) {
    // 'wx': never reuse a file someone else created in our temp dir.
    this.out = createWriteStream(path, { flags: 'wx', mode: 0o600 });
    this.out.on('error', () => {});
  }

  async append(documents: readonly Buffer[]): Promise<void> {
    if (documents.length === 0) return;
    this.documents += documents.length;
    const ok = this.out.write(documents.length === 1 ? documents[0]! : Buffer.concat(documents));
    if (!ok) {
      // Both listeners are removed afterwards: one left per drain would pile up over a long run.
      const done = new AbortController();
      try {
        await Promise.race([once(this.out, 'drain', { signal: done.signal }), once(this.out, 'error', { signal: done.signal }).then(([e]) => Promise.reject(e as Error))]);
      } finally {
        done.abort();
      }
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.out.end();
    await finished(this.out);
  }

  /** Deletes the file once its documents have been replayed, so disk use does not add up over a run. */
  async remove(): Promise<void> {
    await this.close().catch(() => undefined);
    await rm(this.path, { force: true });
  }

  /** Reads the documents back in order, in batches. */
  async *batches(maxDocuments = 1000): AsyncGenerator<Buffer[]> {
    await this.close();
    let pending: Buffer = Buffer.alloc(0);
    let batch: Buffer[] = [];
    for await (const chunk of createReadStream(this.path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      let offset = 0;
      while (pending.length - offset >= 4) {
        const size = pending.readInt32LE(offset);
        if (size < 5) throw new Error(`spool file ${this.path} is corrupt at byte ${offset}`);
        if (pending.length - offset < size) break;
        batch.push(pending.subarray(offset, offset + size));
        offset += size;
        if (batch.length >= maxDocuments) {
          yield batch;
          batch = [];
        }
      }
      pending = pending.subarray(offset);
    }
    if (pending.length !== 0) throw new Error(`spool file ${this.path} ends inside a document`);
    if (batch.length > 0) yield batch;
  }
}
