import { createHash } from 'node:crypto';
import { openArchive } from '../archive/reader.js';
import { isUserError } from '../errors.js';
import type { Store } from '../store/store.js';
import { snapshotKeys } from '../store/layout.js';
import type { Manifest } from './manifest.js';
import { emptyTally, tallyEvents } from './tally.js';
import { TocChecker, verifyPreviewEdition } from './verify-toc.js';

export interface VerifyResult {
  id: string;
  ok: boolean;
  problems: string[];
  sha256: string;
  sizeBytes: number;
  documents: number;
}

/**
 * Re-reads a snapshot and checks it against its manifest: size, sha256, the
 * archive's structure and CRCs, and each collection's document count.
 */
export function generationProblem(where: string, expected: string, found: string): string {
  return `${where} was replaced after the manifest was written: the manifest names generation ${expected}, the store holds ${found}`;
}

export async function verifySnapshot(store: Store, id: string, manifest: Manifest): Promise<VerifyResult> {
  const keys = snapshotKeys(id);
  const problems: string[] = [];
  const stat = await store.stat(keys.dump);
  if (!stat) {
    return { id, ok: false, problems: [`${store.describe(keys.dump)} is missing`], sha256: '', sizeBytes: 0, documents: 0 };
  }
  const generation = manifest.archive.generation;
  // Another version than the one the manifest was written for fails verification; the rest of
  // the checks still run on what is there, so every finding about it is reported too.
  const replaced = generation !== undefined && stat.generation !== generation;
  if (replaced) problems.push(generationProblem(store.describe(keys.dump), generation, stat.generation));
  if (stat.size !== manifest.archive.sizeBytes) {
    problems.push(`archive is ${stat.size} bytes, manifest says ${manifest.archive.sizeBytes}`);
  }

  const download = (await store.read(keys.dump, generation && !replaced ? { generation } : {}))[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const hash = createHash('sha256');
  const toc = new TocChecker(manifest.archive.toc, manifest.archive.sizeBytes);
  // Hash every byte even when the archive turns out unreadable midway, so both findings are reported.
  async function* hashedChunks(): AsyncGenerator<Buffer> {
    for (let next = await download.next(); !next.done; next = await download.next()) {
      hash.update(next.value);
      toc.update(next.value);
      yield next.value;
    }
  }
  const tally = emptyTally();
  try {
    for await (const event of tallyEvents(openArchive(hashedChunks()), tally)) void event;
  } catch (error) {
    if (!isUserError(error)) throw error;
    problems.push(`archive structure: ${error.message}`);
  }
  for (let next = await download.next(); !next.done; next = await download.next()) {
    hash.update(next.value);
    toc.update(next.value);
  }
  const sha256 = hash.digest('hex');
  if (sha256 !== manifest.archive.sha256) problems.push(`sha256 is ${sha256}, manifest says ${manifest.archive.sha256}`);

  const inArchive = new Set(tally.namespaces.map((n) => n.collection));
  for (const entry of manifest.collections) {
    const counted = tally.collections.get(entry.name);
    if (!inArchive.has(entry.name) || !counted) {
      problems.push(`collection ${entry.name} is in the manifest but not in the archive`);
    } else if (counted.documents !== entry.documents) {
      problems.push(`collection ${entry.name} has ${counted.documents} documents, manifest says ${entry.documents}`);
    }
  }
  for (const name of inArchive) {
    if (!manifest.collections.some((c) => c.name === name)) problems.push(`collection ${name} is in the archive but not in the manifest`);
  }
  problems.push(...toc.problems(tally), ...(await verifyPreviewEdition(store, manifest)));
  return { id, ok: problems.length === 0, problems, sha256, sizeBytes: stat.size, documents: tally.documents };
}
