/**
 * `syrf-db anonymize` as a function: archive bytes in (gzip or not, detected
 * by magic bytes), anonymized archive bytes out. Output to a path goes to a
 * temp file beside it that is renamed only when everything succeeded.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { pipeline as streamPipeline } from 'node:stream/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { ArchiveWriter, createGzipArchiveWriter, openArchive, writeEvents, type NamespaceWriteSummary } from '../archive/index.js';
import { ExitCode, UserError } from '../errors.js';
import type { SampleSize } from '../anonymize/check-stage.js';
import { anonymizeArchive, type AnonymizeOptions } from '../anonymize/filter.js';

export interface AnonymizeFileOptions extends AnonymizeOptions {
  /** The coverage check run over the input before anything is written (default: every document; unmatched rules are warnings unless strict). */
  coverage?: { sample?: SampleSize; strict?: boolean };
  /** A path, or '-' for stdin. */
  input: string;
  /** A path, or '-' for stdout. */
  output: string;
  gzip: boolean;
  stdin?: Readable;
  stdout?: NodeJS.WritableStream;
}

export async function anonymizeFile(options: AnonymizeFileOptions): Promise<NamespaceWriteSummary[]> {
  const input = options.input === '-' ? (options.stdin ?? process.stdin) : await openInput(options.input);
  const source = options.input === '-' ? 'stdin' : options.input;
  const produce = async (out: NodeJS.WritableStream) => {
    const writer = options.gzip ? createGzipArchiveWriter(out) : new ArchiveWriter(out);
    // anonymizeArchive runs the coverage check on its input whenever there is a key.
    const check = options.check ?? { sample: options.coverage?.sample ?? 'all', strict: options.coverage?.strict ?? false };
    await writeEvents(anonymizeArchive(openArchive(input, { source }), { ...options, check }), writer);
    return writer.end();
  };
  try {
    if (options.output === '-') return await heldThenStreamed(options.stdout ?? process.stdout, produce);
    return await writeAtomically(options.output, produce);
  } finally {
    if (options.input !== '-') input.destroy();
  }
}

/**
 * Stdout cannot be taken back: the output is held in a private temp file until
 * the whole input has been read, checked and anonymized, and only then copied
 * to `out`. A refused run therefore writes nothing to a `| mongorestore` pipe.
 */
async function heldThenStreamed<T>(out: NodeJS.WritableStream, produce: (out: NodeJS.WritableStream) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'syrf-anonymize-'));
  try {
    const held = join(dir, 'output');
    const result = await writeAtomically(held, produce);
    await streamPipeline(createReadStream(held, { highWaterMark: 1 << 20 }), out as NodeJS.WritableStream, { end: false });
    return result;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function openInput(path: string): Promise<Readable> {
  try {
    await stat(path);
  } catch (error) {
    throw new UserError(`cannot read input archive ${path}: ${(error as Error).message}`, {
      hint: 'pass --input PATH to a mongodump archive (gzip or not), or --input - for stdin',
      exitCode: ExitCode.usage,
      cause: error,
    });
  }
  return createReadStream(path, { highWaterMark: 1 << 20 });
}

/** Runs `produce` into `path.<random>.partial` and renames it over `path` only on success. */
export async function writeAtomically<T>(path: string, produce: (out: NodeJS.WritableStream) => Promise<T>): Promise<T> {
  const partial = join(dirname(path), `.${basename(path)}.${randomBytes(4).toString('hex')}.partial`);
  const out = createWriteStream(partial, { flags: 'wx', mode: 0o600 });
  try {
    const result = await produce(out);
    await rename(partial, path);
    return result;
  } catch (error) {
    out.destroy();
    await rm(partial, { force: true });
    throw error;
  }
}
