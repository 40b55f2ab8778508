/**
 * The preview edition of a snapshot: the rules' size limits with
 * referential subsetting, applied once at capture to the archive just
 * written, and stored beside it as another collection-addressable archive.
 * Per-PR restores then read a few small ranges instead of all of production.
 */
import { subsetArchive } from '../anonymize/filter.js';
import type { Rules } from '../anonymize/rules.js';
import { openArchive } from '../archive/reader.js';
import type { Logger } from '../ops/log.js';
import { snapshotKeys } from '../store/layout.js';
import type { Store } from '../store/store.js';
import { emptyTally, tallyEvents } from './tally.js';
import { PREVIEW_FILE, type PreviewEdition } from './toc.js';
import { writeAddressableArchiveToStore } from './write-addressable.js';

export async function writePreviewEdition(
  store: Store,
  id: string,
  rules: Rules,
  /** `dumpGeneration`: the version of dump.gz this snapshot wrote; the edition is made from exactly it. */
  options: { logger: Logger; gzipLevel?: number; workDir?: string; dumpGeneration?: string },
): Promise<PreviewEdition> {
  const keys = snapshotKeys(id);
  const tally = emptyTally();
  const events = tallyEvents(subsetArchive(openArchive(await store.read(keys.dump, options.dumpGeneration ? { generation: options.dumpGeneration } : {}), { source: store.describe(keys.dump) }), { rules, logger: options.logger }), tally);
  const written = await writeAddressableArchiveToStore(events, store, keys.dir + PREVIEW_FILE, {
    ...(options.gzipLevel ? { gzipLevel: options.gzipLevel } : {}),
    ...(options.workDir ? { workDir: options.workDir } : {}),
  });
  options.logger.info(`snapshot ${id}: preview edition ${written.sizeBytes} bytes, ${tally.documents} documents`, { snapshot: id, sizeBytes: written.sizeBytes });
  return {
    file: PREVIEW_FILE,
    sizeBytes: written.sizeBytes,
    sha256: written.sha256,
    uncompressedBytes: written.uncompressedBytes,
    generation: written.generation,
    rulesSha256: rules.sha256,
    collections: tally.namespaces.map((ns) => {
      const counts = tally.collections.get(ns.collection);
      return { name: ns.collection, documents: counts?.documents ?? 0, bytes: counts?.bytes ?? 0 };
    }),
    toc: written.toc,
  };
}
