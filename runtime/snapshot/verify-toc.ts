/**
 * `verify` for collection-addressable archives: the table of contents must
 * describe the file exactly (layout, each part's sha256, each part starting
 * a gzip member, document counts), and the preview edition must match its
 * manifest section as the full archive matches its own.
 */
import { createHash, type Hash } from 'node:crypto';
import { openArchive } from '../archive/reader.js';
import { isUserError } from '../errors.js';
import { snapshotKeys } from '../store/layout.js';
import type { Store } from '../store/store.js';
import type { Manifest } from './manifest.js';
import { emptyTally, tallyEvents, type ArchiveTally } from './tally.js';
import { tocLayoutProblems, type TableOfContents } from './toc.js';

interface PartState {
  name: string;
  start: number;
  end: number;
  sha256: string;
  hash: Hash;
  head: number[];
  documents: number | null;
}

/** Fed the file's bytes in order, checks each part's range as it passes. */
export class TocChecker {
  private readonly parts: PartState[];
  private offset = 0;

  constructor(
    private readonly toc: TableOfContents | undefined,
    private readonly fileBytes: number,
  ) {
    this.parts = toc
      ? [
          { name: 'the prelude', start: toc.prelude.offset, end: toc.prelude.offset + toc.prelude.length, sha256: toc.prelude.sha256, hash: createHash('sha256'), head: [], documents: null },
          ...toc.collections.map((c) => ({ name: `collection ${c.collection}`, start: c.offset, end: c.offset + c.length, sha256: c.sha256, hash: createHash('sha256'), head: [], documents: c.documents })),
        ]
      : [];
  }

  update(chunk: Buffer): void {
    const chunkStart = this.offset;
    const chunkEnd = chunkStart + chunk.length;
    this.offset = chunkEnd;
    for (const part of this.parts) {
      const from = Math.max(part.start, chunkStart);
      const to = Math.min(part.end, chunkEnd);
      if (from >= to) continue;
      const bytes = chunk.subarray(from - chunkStart, to - chunkStart);
      part.hash.update(bytes);
      for (let i = 0; part.head.length < 3 && i < bytes.length; i++) part.head.push(bytes[i]!);
    }
  }

  problems(tally: ArchiveTally): string[] {
    if (!this.toc) return [];
    const problems = tocLayoutProblems(this.toc, this.fileBytes).map((p) => `table of contents: ${p}`);
    for (const part of this.parts) {
      const digest = part.hash.digest('hex');
      if (digest !== part.sha256) problems.push(`table of contents: ${part.name} (bytes ${part.start}–${part.end}) has sha256 ${digest}, manifest says ${part.sha256}`);
      else if (part.end > part.start && !(part.head[0] === 0x1f && part.head[1] === 0x8b && part.head[2] === 0x08)) {
        problems.push(`table of contents: ${part.name} does not start a gzip member`);
      }
    }
    for (const entry of this.toc.collections) {
      const counted = tally.collections.get(entry.collection)?.documents ?? 0;
      if (counted !== entry.documents) problems.push(`table of contents: collection ${entry.collection} has ${counted} documents in the archive, the table says ${entry.documents}`);
    }
    return problems;
  }
}

/** Re-reads preview.gz and checks it against the manifest's preview section; no problems when there is none. */
export async function verifyPreviewEdition(store: Store, manifest: Manifest): Promise<string[]> {
  const preview = manifest.preview;
  if (!preview) return [];
  const key = snapshotKeys(manifest.id).dir + preview.file;
  const stat = await store.stat(key);
  if (!stat) return [`preview edition ${store.describe(key)} is missing`];
  if (preview.generation && stat.generation !== preview.generation) {
    return [`preview edition ${store.describe(key)} was replaced after the manifest was written: the manifest names generation ${preview.generation}, the store holds ${stat.generation}`];
  }
  const problems: string[] = [];
  if (stat.size !== preview.sizeBytes) problems.push(`preview edition is ${stat.size} bytes, manifest says ${preview.sizeBytes}`);
  const checker = new TocChecker(preview.toc, preview.sizeBytes);
  const hash = createHash('sha256');
  const download = (await store.read(key, preview.generation ? { generation: preview.generation } : {}))[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  async function* hashed(): AsyncGenerator<Buffer> {
    for (let next = await download.next(); !next.done; next = await download.next()) {
      hash.update(next.value);
      checker.update(next.value);
      yield next.value;
    }
  }
  const tally = emptyTally();
  try {
    for await (const event of tallyEvents(openArchive(hashed()), tally)) void event;
  } catch (error) {
    if (!isUserError(error)) throw error;
    problems.push(`preview edition structure: ${error.message}`);
  }
  for (let next = await download.next(); !next.done; next = await download.next()) {
    hash.update(next.value);
    checker.update(next.value);
  }
  const sha256 = hash.digest('hex');
  if (sha256 !== preview.sha256) problems.push(`preview edition sha256 is ${sha256}, manifest says ${preview.sha256}`);
  problems.push(...checker.problems(tally).map((p) => `preview edition ${p}`));
  for (const entry of preview.collections) {
    const counted = tally.collections.get(entry.name)?.documents;
    if (counted !== entry.documents) problems.push(`preview edition: collection ${entry.name} has ${counted ?? 'no'} documents, manifest says ${entry.documents}`);
  }
  return problems;
}
