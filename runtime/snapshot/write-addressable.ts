import { PassThrough } from 'node:stream';
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
 * events → collection-addressable archive → one object in the store, with
 * its table of contents. The archive streams into the upload as it is made
 * (scratch files only for namespaces that arrive interleaved, see
 * addressable-writer.ts); the upload's body is ended only after the writer
 * has checked that every namespace ended, and is destroyed on any failure,
 * so the store never publishes a partial archive under `key` (a file store
 * renames a finished temp file, GCS finalizes a resumable upload only at
 * its end). Scratch files are removed in every case.
 */
export async function writeAddressableArchiveToStore(
  events: AsyncIterable<ArchiveEvent>,
  store: Store,
  key: string,
  options: { gzipLevel?: number; workDir?: string } = {},
): Promise<WrittenAddressableArchive> {
  // Part files of killed runs (their pid is gone) are removed first; a live run's never.
  const dir = await createRunTempDir(PARTS_PREFIX, { ...(options.workDir ? { root: options.workDir } : {}), what: 'snapshot part files' });
  const hasher = new HashingStream();
  const body = new PassThrough();
  // A failure is reported by the writer's or the upload's promise; the store may not be listening on the body
  // yet when the writer fails first (e.g. the rules refuse the prelude), and an unheard 'error' would crash.
  body.on('error', () => undefined);
  hasher.on('data', () => faultPoint('snapshot.upload.chunk'));
  hasher.on('error', (error: Error) => body.destroy(error));
  hasher.pipe(body);
  const writer = new AddressableArchiveWriter({ dir, out: hasher, level: options.gzipLevel ?? 6 });
  try {
    // Never over another run's archive: of two snapshots with the same id, the store lets one write it.
    const upload = store.write(key, body, { contentType: 'application/gzip', ifAbsent: true });
    upload.catch(() => undefined);
    const writing = (async () => {
      await writeEventsAddressable(events, writer);
      const parts = await writer.end();
      await new Promise<void>((resolve, reject) => {
        hasher.once('error', reject);
        hasher.end(resolve);
      });
      return parts;
    })();
    writing.catch(() => undefined);
    try {
      // Either side may fail first: a store that refuses the write at once (another run's archive
      // is already there) stops reading the body, and the writer would wait for it forever.
      const [parts, stored] = await Promise.all([writing, upload]);
      return { sizeBytes: hasher.bytes, sha256: hasher.digest(), uncompressedBytes: parts.reduce((sum, p) => sum + p.uncompressedBytes, 0), toc: tableOfContents(parts), generation: stored.generation };
    } catch (error) {
      writer.abort();
      hasher.destroy(error as Error);
      body.destroy(error as Error);
      await Promise.allSettled([writing, upload]);
      throw error;
    }
  } finally {
    await removeRunTempDir(dir);
  }
}

export function tableOfContents(parts: ArchivePart[]): TableOfContents {
  const [prelude, ...rest] = parts;
  if (!prelude || prelude.collection !== null) throw new Error('tableOfContents: the first part must be the prelude');
  let offset = prelude.length;
  const collections = rest.map((part) => {
    if (part.offset !== offset) throw new Error(`tableOfContents: ${part.collection} was written at byte ${part.offset}, expected ${offset}`);
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
