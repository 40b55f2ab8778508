/**
 * Whole-stream gzip, as `mongodump --gzip --archive` writes it. Reading
 * sniffs the gzip magic so callers accept compressed and plain archives alike.
 */
import { createGunzip } from 'node:zlib';
import type { Gunzip } from 'node:zlib';
import { ArchiveFormatError } from './errors.js';

const GZIP_MAGIC_0 = 0x1f;
const GZIP_MAGIC_1 = 0x8b;

export function startsWithGzipMagic(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === GZIP_MAGIC_0 && bytes[1] === GZIP_MAGIC_1;
}

/** Marks an error that came from the input itself, so it is rethrown untouched. */
class InputFailure extends Error {
  constructor(readonly original: unknown) {
    super('archive input failed');
  }
}

/**
 * Passes plain input through unchanged and gunzips gzip input. A corrupt or
 * truncated gzip stream becomes an ArchiveFormatError; errors of the input
 * itself (network, file system) propagate as they are.
 */
export async function* maybeGunzip(
  input: AsyncIterable<Uint8Array>,
  options: { source?: string } = {},
): AsyncGenerator<Buffer> {
  const iterator = input[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let headLength = 0;
  let exhausted = false;
  while (headLength < 2) {
    const next = await iterator.next();
    if (next.done) {
      exhausted = true;
      break;
    }
    const chunk = toBuffer(next.value);
    head.push(chunk);
    headLength += chunk.length;
  }
  const first = Buffer.concat(head);
  const rest = remaining(first, iterator, exhausted);
  if (!startsWithGzipMagic(first)) {
    yield* rest;
    return;
  }
  yield* gunzip(rest, options.source);
}

async function* remaining(first: Buffer, iterator: AsyncIterator<Uint8Array>, exhausted: boolean): AsyncGenerator<Buffer> {
  try {
    if (first.length > 0) yield first;
    if (exhausted) return;
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield toBuffer(next.value);
  } finally {
    if (!exhausted) await iterator.return?.();
  }
}

async function* gunzip(compressed: AsyncGenerator<Buffer>, source: string | undefined): AsyncGenerator<Buffer> {
  const inflater = createGunzip();
  const feeding = feed(compressed, inflater);
  let produced = 0;
  try {
    for await (const chunk of inflater as AsyncIterable<Buffer>) {
      produced += chunk.length;
      yield chunk;
    }
  } catch (error) {
    if (error instanceof InputFailure) throw error.original;
    throw new ArchiveFormatError(`gzip stream is corrupt or truncated: ${(error as Error).message}`, {
      offset: produced,
      source,
      cause: error,
    });
  } finally {
    inflater.destroy();
    await feeding;
  }
}

/** Writes the compressed input into the inflater with backpressure; never rejects. */
async function feed(compressed: AsyncGenerator<Buffer>, inflater: Gunzip): Promise<void> {
  try {
    for await (const chunk of compressed) {
      if (inflater.destroyed) break;
      if (!inflater.write(chunk)) await drained(inflater);
    }
    if (!inflater.destroyed) inflater.end();
  } catch (error) {
    inflater.destroy(new InputFailure(error));
  }
}

function drained(stream: Gunzip): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      stream.off('error', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
    stream.on('error', done);
  });
}

function toBuffer(chunk: Uint8Array): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}
