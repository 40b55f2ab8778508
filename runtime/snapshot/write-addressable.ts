import { createReadStream } from 'node:fs';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ArchiveEvent } from '../archive/types.js';
import { AddressableArchiveWriter, writeEventsAddressable, type ArchivePart } from '../archive/addressable-writer.js';
import type { Store } from '../store/store.js';
import { faultPoint } from '../util/fault.js';
import { HashingStream } from '../util/hashing-stream.js';
import { createRunTempDir, removeRunTempDir } from '../util/temp-dirs.js';

/** `syrf-parts-<pid>-XXXXXX`: one compressed part file per namespace while a snapshot is written. */
export const PARTS_PREFIX = 'syrf-parts-';
import type { TableOfContents } from './toc.js';

export interface WrittenAddressableArchive {
  sizeBytes: number;
  sha256: string;
  uncompressedBytes: number;
  toc: TableOfContents;
  /** The stored version the upload created. */
  generation: string;
}

/**
 * events → collection-addressable archive (parts on local disk) → one
 * object in the store, with its table of contents. The object is uploaded
 * only once every part is complete, so a failure never leaves a partial
 * archive under `key`; the part files are removed in every case.
 */
export async function writeAddressableArchiveToStore(
  events: AsyncIterable<ArchiveEvent>,
  store: Store,
  key: string,
  options: { gzipLevel?: number; workDir?: string } = {},
): Promise<WrittenAddressableArchive> {
  // Part files of killed runs (their pid is gone) are removed first; a live run's never.
  const dir = await createRunTempDir(PARTS_PREFIX, { ...(options.workDir ? { root: options.workDir } : {}), what: 'snapshot part files' });
  try {
    const writer = new AddressableArchiveWriter({ dir, level: options.gzipLevel ?? 6 });
    let parts: ArchivePart[];
    try {
      await writeEventsAddressable(events, writer);
      parts = writer.end();
    } catch (error) {
      writer.abort();
      throw error;
    }
    const hasher = new HashingStream();
    const body = new PassThrough();
    hasher.on('data', () => faultPoint('snapshot.upload.chunk'));
    // Never over another run's archive: of two snapshots with the same id, the store lets one write it.
    const upload = store.write(key, body, { contentType: 'application/gzip', ifAbsent: true });
    upload.catch(() => undefined);
    const piping = pipeline(Readable.from(partBytes(parts)), hasher, body);
    piping.catch(() => undefined);
    try {
      // Either side may fail first: a store that refuses the write at once (another run's archive
      // is already there) stops reading the body, and the pipeline would wait for it forever.
      const [, stored] = await Promise.all([piping, upload]);
      return { sizeBytes: hasher.bytes, sha256: hasher.digest(), uncompressedBytes: parts.reduce((sum, p) => sum + p.uncompressedBytes, 0), toc: tableOfContents(parts), generation: stored.generation };
    } catch (error) {
      body.destroy(error as Error);
      await Promise.allSettled([piping, upload]);
      throw error;
    }
  } finally {
    await removeRunTempDir(dir);
  }
}

async function* partBytes(parts: ArchivePart[]): AsyncGenerator<Buffer> {
  for (const part of parts) {
    if ('bytes' in part.source) yield part.source.bytes;
    else yield* createReadStream(part.source.path, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>;
  }
}

export function tableOfContents(parts: ArchivePart[]): TableOfContents {
  const [prelude, ...rest] = parts;
  if (!prelude || prelude.collection !== null) throw new Error('tableOfContents: the first part must be the prelude');
  let offset = prelude.length;
  const collections = rest.map((part) => {
    const entry = {
      collection: part.collection!,
      offset,
      length: part.length,
      uncompressedBytes: part.uncompressedBytes,
      sha256: part.sha256,
      documents: part.documents,
    };
    offset += part.length;
    return entry;
  });
  return { prelude: { offset: 0, length: prelude.length, uncompressedBytes: prelude.uncompressedBytes, sha256: prelude.sha256 }, collections };
}
