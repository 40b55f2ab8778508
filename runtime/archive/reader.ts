/**
 * Streaming reader for mongodump archives: bytes in, ArchiveEvents out.
 * Memory stays flat: a yielded segment holds at most one batch of documents,
 * and documents are views of the input chunks (copied only when they span
 * chunks), so consumers must not mutate the chunks they feed in.
 */
import type { Readable } from 'node:stream';
import { ArchiveDecoder, type DecoderOptions } from './decoder.js';
import { maybeGunzip } from './gzip.js';
import type { ArchiveEvent } from './types.js';

export type ReadArchiveOptions = DecoderOptions;

/**
 * Reads an uncompressed archive. Every namespace's CRC-64 is verified at its
 * EOF header; any framing problem throws ArchiveFormatError naming the byte
 * offset and namespace.
 */
export async function* readArchive(
  input: AsyncIterable<Uint8Array>,
  options: ReadArchiveOptions = {},
): AsyncGenerator<ArchiveEvent> {
  const decoder = new ArchiveDecoder(options);
  for await (const chunk of input) {
    yield* decoder.push(asBuffer(chunk));
  }
  yield* decoder.finish();
}

/** Like readArchive, but gunzips first when the input starts with the gzip magic (as `--gzip` archives do). */
export function openArchive(
  input: Readable | AsyncIterable<Uint8Array>,
  options: ReadArchiveOptions = {},
): AsyncGenerator<ArchiveEvent> {
  return readArchive(maybeGunzip(input as AsyncIterable<Uint8Array>, { source: options.source }), options);
}

function asBuffer(chunk: Uint8Array): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  throw new TypeError(`archive input must yield bytes, got ${typeof chunk}`);
}
