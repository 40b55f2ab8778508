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

  /**
   * Reads the documents back in order, in batches. Documents are views of the
   * read chunks; only one that spans two chunks is copied, so no chunk is
   * copied as a whole. A view keeps its whole chunk alive: consumers that
   * hold on to a few documents of a batch should copy them.
   */
  async *batches(maxDocuments = 1000): AsyncGenerator<Buffer[]> {
    await this.close();
    let offset = 0;
    /** The start of a document that continues in a later chunk (copied, so its chunk can go). */
    let carry: Buffer[] = [];
    let carryBytes = 0;
    let batch: Buffer[] = [];
    for await (const chunk of createReadStream(this.path, { highWaterMark: READ_CHUNK_BYTES }) as AsyncIterable<Buffer>) {
      let pos = 0;
      if (carryBytes > 0) {
        const head = carryBytes >= 4 ? carry[0]! : Buffer.concat([...carry, chunk.subarray(0, 4 - carryBytes)]);
        const size = head.length >= 4 ? documentSize(head, 0, this.path, offset) : Infinity;
        const missing = size - carryBytes;
        if (missing > chunk.length) {
          // The whole chunk belongs to this document. The first piece always holds the size field.
          if (carryBytes >= 4) carry.push(chunk);
          else carry = [Buffer.concat([...carry, chunk])];
          carryBytes += chunk.length;
          continue;
        }
        batch.push(Buffer.concat([...carry, chunk.subarray(0, missing)], size));
        offset += size;
        pos = missing;
        carry = [];
        carryBytes = 0;
        if (batch.length >= maxDocuments) {
          yield batch;
          batch = [];
        }
      }
      while (chunk.length - pos >= 4) {
        const size = documentSize(chunk, pos, this.path, offset);
        if (chunk.length - pos < size) break;
        batch.push(chunk.subarray(pos, pos + size));
        pos += size;
        offset += size;
        if (batch.length >= maxDocuments) {
          yield batch;
          batch = [];
        }
      }
      if (pos < chunk.length) {
        carry = [Buffer.from(chunk.subarray(pos))];
        carryBytes = carry[0]!.length;
      }
    }
    if (carryBytes > 0) throw new Error(`spool file ${this.path} ends inside a document`);
    if (batch.length > 0) yield batch;
  }
}

const READ_CHUNK_BYTES = 1 << 20;

function documentSize(bytes: Buffer, at: number, path: string, offset: number): number {
  const size = bytes.readInt32LE(at);
  if (size < 5) throw new Error(`spool file ${path} is corrupt at byte ${offset}`);
  return size;
}
