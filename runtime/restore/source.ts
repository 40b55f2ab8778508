/**
 * Which bytes a restore reads: the preview edition or the full archive, and
 * for each, only the needed ranges when the manifest has a table of
 * contents, or the whole file (checked against its sha256) when it has none.
 */
import { openArchive } from '../archive/reader.js';
import type { ArchiveEvent } from '../archive/types.js';
import { UserError } from '../errors.js';
import type { Logger } from '../ops/log.js';
import { snapshotKeys } from '../store/layout.js';
import type { Store } from '../store/store.js';
import type { Manifest } from '../snapshot/manifest.js';
import { downloadVerified } from './download.js';
import { openRangedEvents } from './ranged.js';
import { selectCollections } from './select.js';
import { PREVIEW_DATABASE_PATTERN } from '../contract/databases.js';

export type Edition = 'preview' | 'full';
export const EDITIONS: readonly Edition[] = ['preview', 'full'];

export interface SnapshotSource {
  edition: Edition;
  /** The bytes read whole (`file`) or by range (`ranges`). */
  access: 'file' | 'ranges';
  events: AsyncIterable<ArchiveEvent>;
  /** Compressed bytes read from the store. */
  bytesRead: number;
  /** Documents per collection in what is read; the preview is already size-limited, so it needs no subsetting. */
  documents: Map<string, number>;
  remove(): Promise<void>;
}

/** Per-PR targets read the preview edition unless told otherwise; everything else (staging) the full one. */
export function chooseEdition(manifest: Manifest, requested: Edition | undefined, target: string, logger: Logger): Edition {
  const wanted = requested ?? (PREVIEW_DATABASE_PATTERN.test(target) ? 'preview' : 'full');
  if (wanted === 'full' || manifest.preview) return wanted;
  if (requested === 'preview') {
    throw new UserError(`snapshot ${manifest.id} has no preview edition`, {
      hint: 'restore it with `--edition full` (size limits are then applied while restoring), or take a new snapshot with --anonymize --rules',
      exitCode: 2,
    });
  }
  logger.info(`snapshot ${manifest.id} has no preview edition; reading the full archive and applying the size limits here`);
  return 'full';
}

export async function openSnapshotSource(input: {
  store: Store;
  manifest: Manifest;
  wanted: ReadonlySet<string>;
  edition: Edition;
  workDir?: string;
  loadConcurrency?: number;
  signal?: AbortSignal;
  logger?: Logger;
}): Promise<SnapshotSource> {
  const { store, manifest, wanted } = input;
  const keys = snapshotKeys(manifest.id);
  if (input.edition === 'preview' && manifest.preview) {
    const preview = manifest.preview;
    const ranged = await openRangedEvents(
      { store, key: keys.dir + preview.file, sizeBytes: preview.sizeBytes, toc: preview.toc, ...(preview.generation ? { generation: preview.generation } : {}), label: `snapshot ${manifest.id} (${preview.file})` },
      { collections: wanted, ...(input.workDir ? { workDir: input.workDir } : {}), ...(input.loadConcurrency ? { loadConcurrency: input.loadConcurrency } : {}) },
    );
    return { edition: 'preview', access: 'ranges', ...ranged, documents: new Map(preview.collections.map((c) => [c.name, c.documents])) };
  }
  const documents = new Map(manifest.collections.map((c) => [c.name, c.documents]));
  const toc = manifest.archive.toc;
  if (toc) {
    const ranged = await openRangedEvents(
      { store, key: keys.dump, sizeBytes: manifest.archive.sizeBytes, toc, ...(manifest.archive.generation ? { generation: manifest.archive.generation } : {}), label: `snapshot ${manifest.id} (${manifest.archive.file})` },
      { collections: wanted, ...(input.workDir ? { workDir: input.workDir } : {}), ...(input.loadConcurrency ? { loadConcurrency: input.loadConcurrency } : {}) },
    );
    return { edition: 'full', access: 'ranges', ...ranged, documents };
  }
  // A snapshot from before tables of contents: the whole file, checked, then filtered.
  const download = await downloadVerified(store, manifest, {
    ...(input.workDir ? { workDir: input.workDir } : {}),
    ...(input.signal ? { signal: input.signal } : {}),
    ...(input.logger ? { logger: input.logger } : {}),
  });
  return {
    edition: 'full',
    access: 'file',
    events: selectCollections(openArchive(download.open()), wanted),
    bytesRead: manifest.archive.sizeBytes,
    documents,
    remove: () => download.remove(),
  };
}
