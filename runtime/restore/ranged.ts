/**
 * Restore from a collection-addressable archive without reading all of it:
 * the prelude and the chosen collections' byte ranges are downloaded, each
 * checked against the sha256 the manifest records for it, and only then
 * decompressed and parsed, each range on its own. Nothing reaches a
 * database from a range that does not match its manifest.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { gunzipSync } from 'node:zlib';
import { ArchiveDecoder } from '../archive/decoder.js';
import { magicBytes, terminatorBytes } from '../archive/format.js';
import { maybeGunzip } from '../archive/gzip.js';
import { encodeArchiveHeader, encodeNamespaceMetadata } from '../archive/prelude.js';
import { readArchive } from '../archive/reader.js';
import type { ArchiveEvent, ArchiveHeader, NamespaceMetadata } from '../archive/types.js';
import { ExitCode, UserError, isUserError } from '../errors.js';
import { GenerationMismatchError, type ReadOptions, type Store } from '../store/store.js';
import { partsOf, tocLayoutProblems, type TableOfContents, type TocCollection, type TocRange } from '../snapshot/toc.js';
import { mergeLimited } from '../util/async.js';
import { faultPoint } from '../util/fault.js';
import { createDownloadDir } from './download.js';
import { removeRunTempDir } from '../util/temp-dirs.js';

export interface RangedArchive {
  store: Store;
  key: string;
  sizeBytes: number;
  toc: TableOfContents;
  /** The exact stored version the manifest names (absent in older snapshots): every range is read from it. */
  generation?: string;
  /** Names the archive in messages, e.g. `snapshot 2026-01-09 (preview.gz)`. */
  label: string;
}

export interface RangedEvents {
  /** The prelude (only the chosen collections), then their data; collections interleave. */
  events: AsyncIterable<ArchiveEvent>;
  /** Compressed bytes read from the store. */
  bytesRead: number;
  remove(): Promise<void>;
}

export interface RangedOptions {
  collections: ReadonlySet<string>;
  workDir?: string;
  /** Ranges downloaded at once (default 4). */
  downloadConcurrency?: number;
  /** Collections decompressed and parsed at once, i.e. fed to the load together (default 2). */
  loadConcurrency?: number;
}

function corrupt(message: string): UserError {
  return new UserError(message, {
    hint: 'nothing was written; the snapshot is damaged or was replaced: run `syrf-db verify` and restore another id',
    exitCode: ExitCode.corrupt,
  });
}

/** Downloads and checks the prelude and the chosen collections' ranges; returns their events. */
export async function openRangedEvents(archive: RangedArchive, options: RangedOptions): Promise<RangedEvents> {
  const layout = tocLayoutProblems(archive.toc, archive.sizeBytes);
  if (layout.length > 0) throw corrupt(`${archive.label}: the table of contents is inconsistent: ${layout.join('; ')}`);
  const stat = await archive.store.stat(archive.key);
  if (!stat) throw corrupt(`${archive.label}: ${archive.store.describe(archive.key)} is missing`);
  if (archive.generation && stat.generation !== archive.generation) throw new GenerationMismatchError(`${archive.label}: ${archive.store.describe(archive.key)}`, archive.generation, stat.generation);
  if (stat.size !== archive.sizeBytes) throw corrupt(`${archive.label}: the archive is ${stat.size} bytes, the manifest says ${archive.sizeBytes}`);

  const dir = await createDownloadDir(options.workDir);
  const remove = () => removeRunTempDir(dir);
  let bytesRead = 0;
  try {
    const preludeBytes = await readWhole(archive, archive.toc.prelude);
    bytesRead += preludeBytes.length;
    if (sha256(preludeBytes) !== archive.toc.prelude.sha256 || preludeBytes.length !== archive.toc.prelude.length) {
      throw corrupt(`${archive.label}: the prelude (bytes ${archive.toc.prelude.offset}–${archive.toc.prelude.offset + archive.toc.prelude.length}) does not match its sha256 in the manifest`);
    }
    const prelude = decodePrelude(preludeBytes, archive.label);

    const chosen = prelude.namespaces.filter((ns) => options.collections.has(ns.collection));
    const missing = [...options.collections].filter((name) => !chosen.some((ns) => ns.collection === name));
    if (missing.length > 0) throw corrupt(`${archive.label}: the archive's prelude does not list ${missing.join(', ')}`);
    const plan = chosen.map((ns) => ({ ns, parts: partsOf(archive.toc, ns.collection) }));
    for (const { ns, parts } of plan) {
      if (!parts.some((p) => p.collection === ns.collection || ns.type === 'timeseries')) {
        throw corrupt(`${archive.label}: the table of contents has no range for collection ${ns.collection}`);
      }
    }

    const files = new Map<TocCollection, string>();
    const jobs = plan.flatMap(({ ns, parts }) => parts.map((part) => ({ ns, part })));
    let index = 0;
    const worker = async () => {
      for (let job = jobs[index++]; job; job = jobs[index++]) {
        const path = join(dir, `range-${files.size}-${index}.gz`);
        // Not `bytesRead += await …`: that reads the total before the await and loses the other workers' bytes.
        const bytes = await downloadChecked(archive, job.part, job.ns.collection, path);
        bytesRead += bytes;
        files.set(job.part, path);
      }
    };
    // Every worker settles before the directory can be removed, so no download writes into a removed directory.
    const settled = await Promise.allSettled(Array.from({ length: Math.max(1, options.downloadConcurrency ?? 4) }, worker));
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;

    const header = prelude.header;
    const sources = plan.map(({ ns, parts }) => () => collectionEvents(header, ns, parts, files, archive.label));
    const events = (async function* (): AsyncGenerator<ArchiveEvent> {
      yield { type: 'prelude', header, namespaces: chosen };
      yield* mergeLimited(sources, options.loadConcurrency ?? 2);
    })();
    return { events, bytesRead, remove };
  } catch (error) {
    await remove();
    throw error;
  }
}

async function readWhole(archive: RangedArchive, range: TocRange): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of await archive.store.readRange(archive.key, range.offset, range.offset + range.length, pinnedTo(archive))) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function pinnedTo(archive: RangedArchive): ReadOptions {
  return archive.generation ? { generation: archive.generation } : {};
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function decodePrelude(compressed: Buffer, label: string): { header: ArchiveHeader; namespaces: NamespaceMetadata[] } {
  try {
    for (const event of new ArchiveDecoder({ source: `${label} prelude` }).push(gunzipSync(compressed))) {
      if (event.type === 'prelude') return { header: event.header, namespaces: event.namespaces };
    }
  } catch (error) {
    if (isUserError(error)) throw error;
    throw corrupt(`${label}: the prelude does not decompress: ${(error as Error).message}`);
  }
  throw corrupt(`${label}: the prelude range does not hold a complete prelude`);
}

/** Streams one range to `path`, refusing it unless its length and sha256 match the manifest. */
async function downloadChecked(archive: RangedArchive, part: TocCollection, collection: string, path: string): Promise<number> {
  const hash = createHash('sha256');
  let bytes = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      faultPoint('restore.download.chunk');
      hash.update(chunk);
      bytes += chunk.length;
      callback(null, chunk);
    },
  });
  await pipeline(await archive.store.readRange(archive.key, part.offset, part.offset + part.length, pinnedTo(archive)), counter, createWriteStream(path, { flags: 'wx', mode: 0o600 }));
  const digest = hash.digest('hex');
  if (bytes !== part.length || digest !== part.sha256) {
    throw corrupt(
      `${archive.label}: collection ${collection} does not match its manifest: sha256 ${digest} (${bytes} bytes) ` +
        `in its range (bytes ${part.offset}–${part.offset + part.length}${part.collection !== collection ? `, ${part.collection}` : ''}), the manifest says ${part.sha256} (${part.length} bytes)`,
    );
  }
  return bytes;
}

/**
 * One collection's events: its ranges, each decompressed on its own, behind
 * a prelude that lists only this collection, so the archive reader checks
 * framing, CRC and that the range holds this namespace and nothing else.
 */
async function* collectionEvents(
  header: ArchiveHeader,
  ns: NamespaceMetadata,
  parts: TocCollection[],
  files: Map<TocCollection, string>,
  label: string,
): AsyncGenerator<ArchiveEvent> {
  async function* plain(): AsyncGenerator<Buffer> {
    yield Buffer.concat([magicBytes(), encodeArchiveHeader(header), encodeNamespaceMetadata(ns), terminatorBytes()]);
    for (const part of parts) yield* maybeGunzip(createReadStream(files.get(part)!, { highWaterMark: 1024 * 1024 }), { source: `${label} ${part.collection}` });
  }
  const expected = parts.reduce((sum, p) => sum + p.documents, 0);
  let documents = 0;
  try {
    for await (const event of readArchive(plain(), { source: `${label} ${ns.collection}` })) {
      if (event.type === 'prelude') continue;
      if (event.type === 'segment') documents += event.documents.length;
      if (event.type === 'eof' && event.collection === ns.collection && documents !== expected) {
        throw corrupt(`${label}: collection ${ns.collection} holds ${documents} documents, the table of contents says ${expected}`);
      }
      yield event;
    }
  } catch (error) {
    if (isUserError(error) && error.message.includes(ns.collection)) throw error;
    throw corrupt(`${label}: collection ${ns.collection}: ${(error as Error).message}`);
  }
}
