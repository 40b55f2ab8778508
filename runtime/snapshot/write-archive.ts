import { PassThrough } from 'node:stream';
import type { ArchiveEvent } from '../archive/types.js';
import { createParallelGzip } from '../archive/parallel-gzip.js';
import { ArchiveWriter, writeEvents } from '../archive/writer.js';
import type { Store } from '../store/store.js';
import { HashingStream } from '../util/hashing-stream.js';
import { faultPoint } from '../util/fault.js';

export interface WrittenArchive {
  sizeBytes: number;
  sha256: string;
}

/**
 * events → archive framing → gzip → sha256 → store object, with
 * backpressure end to end. If anything fails, the upload is aborted, so the
 * object under `key` is never a partial archive.
 */
export async function writeArchiveToStore(
  events: AsyncIterable<ArchiveEvent>,
  store: Store,
  key: string,
  options: { gzipLevel?: number } = {},
): Promise<WrittenArchive> {
  // Deflate is the costliest step once the server is fast; spread it over the cores.
  const gzip = createParallelGzip({ level: options.gzipLevel ?? 6 });
  const hasher = new HashingStream();
  const body = new PassThrough();
  // A failure before the store has started reading (e.g. the rules refuse the prelude) destroys `body`
  // with nobody listening yet; without this the 'error' event would crash the process with a stack trace.
  body.on('error', () => undefined);
  gzip.pipe(hasher).pipe(body);
  hasher.on('data', () => faultPoint('snapshot.upload.chunk'));
  // Never over another run's archive: of two snapshots with the same id, the store lets one write it.
  const upload = store.write(key, body, { contentType: 'application/gzip', ifAbsent: true });
  // Observed below; this keeps an early rejection from being reported as unhandled.
  upload.catch(() => undefined);

  try {
    const writer = new ArchiveWriter(gzip);
    await writeEvents(events, writer);
    await writer.end();
  } catch (error) {
    body.destroy(error as Error);
    gzip.destroy();
    await upload.catch(() => undefined);
    throw error;
  }
  await upload;
  return { sizeBytes: hasher.bytes, sha256: hasher.digest() };
}
