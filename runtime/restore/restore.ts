import type { MongoClient } from 'mongodb';
import { ExitCode, UserError } from '../errors.js';
import type { ArchiveEvent } from '../archive/types.js';
import type { Logger } from '../ops/log.js';
import type { Store } from '../store/store.js';
import { chooseEdition, openSnapshotSource, type Edition, type SnapshotSource } from './source.js';
import { loadManifest, resolveSnapshotId } from '../snapshot/catalog.js';
import { plausiblePseudonyms } from '../snapshot/plausibility.js';
import type { Rules } from '../anonymize/rules.js';
import { checkAnonymizationRequirement, checkRestoreTarget } from './guard.js';
import { countsOf, finishInterruptedSwapIfAny, writeIntoTarget, type CollectionCounts } from './into-target.js';
import { chooseCollections } from './select.js';
import { watchStopSignals } from './stop-signals.js';
import { isRestoreInternal } from '../mongo/temp-names.js';
import type { IntoTargetOptions } from './into-target.js';

export type EventTransform = (events: AsyncIterable<ArchiveEvent>) => AsyncIterable<ArchiveEvent>;

export interface RestoreOptions {
  store: Store;
  /** `latest` or a dated id. */
  snapshot: string;
  client: MongoClient;
  target: string;
  collections?: string[];
  /** Pseudonymizes a raw snapshot in the stream (size limits included); required for snapshots not anonymized at capture. */
  anonymize?: EventTransform;
  /** Applies the rules' size limits with referential subsetting to an anonymized snapshot. */
  subset?: EventTransform;
  confirm?: string;
  /** The rules: an anonymized snapshot's ruled fields are checked to hold pseudonyms before anything is written. */
  rules?: Rules;
  guard?: { allowlist?: RegExp[]; productionNames?: string[] };
  workDir?: string;
  /** `preview` (the default for syrf_pr_<N>) or `full`; see source.ts. */
  edition?: Edition;
  /** Collections read and loaded at once from a collection-addressable archive. */
  loadConcurrency?: number;
  holder: string;
  logger: Logger;
  lock?: IntoTargetOptions['lock'];
}

export interface RestoreResult extends CollectionCounts {
  snapshotId: string;
  sha256: string;
  target: string;
  bytes: number;
  edition: Edition;
  /** Compressed bytes read from the store. */
  bytesRead: number;
}

/**
 * Snapshot → target database. Every refusal happens before the first byte
 * is written: the guard, the anonymization requirement, unknown
 * collections, and the checksum of the downloaded archive.
 */
export async function restoreSnapshot(options: RestoreOptions): Promise<RestoreResult> {
  const { store, logger } = options;
  const id = await resolveSnapshotId(store, options.snapshot);
  const manifest = await loadManifest(store, id);

  checkRestoreTarget({ target: options.target, sourceDb: manifest.source.db, ...options.guard, ...(options.confirm ? { confirm: options.confirm } : {}) });
  checkAnonymizationRequirement({ manifestAnonymized: manifest.anonymization.anonymized, haveRulesAndKey: Boolean(options.anonymize) });

  // Older snapshots captured a restore's own lock and scratch collections; restoring those would clobber this run's lock.
  const available = manifest.collections.map((c) => c.name).filter((name) => !isRestoreInternal(name));
  const wanted = chooseCollections(options.collections, available, `snapshot ${id}`);

  const edition = chooseEdition(manifest, options.edition, options.target, logger);
  const stop = watchStopSignals(logger, `restore ${id} → ${options.target}`);
  const db = options.client.db(options.target);
  let source: SnapshotSource | undefined;
  try {
    // A swap a killed run left half done is finished first, before this run downloads anything.
    await finishInterruptedSwapIfAny(db, { holder: options.holder, logger, ...(options.lock ? { lock: options.lock } : {}) });
    logger.info(`restore ${id} (${edition} edition) → ${options.target}: downloading and checking`, { snapshot: id, target: options.target, edition });
    source = await openSnapshotSource({
      store,
      manifest,
      wanted,
      edition,
      signal: stop.signal,
      logger,
      ...(options.workDir ? { workDir: options.workDir } : {}),
      ...(options.loadConcurrency ? { loadConcurrency: options.loadConcurrency } : {}),
    });
    let events: AsyncIterable<ArchiveEvent> = source.events;
    if (manifest.anonymization.anonymized && options.rules) events = plausiblePseudonyms(events, options.rules, { snapshotId: id });
    // A raw snapshot goes through the anonymizer, which applies the size limits itself; the preview edition is size-limited already.
    const anonymize = manifest.anonymization.anonymized ? undefined : options.anonymize;
    const subset = edition === 'preview' ? undefined : options.subset;
    if (anonymize) events = anonymize(events);
    else if (subset) events = subset(events);

    const loaded = await writeIntoTarget(db, events, {
      logger,
      holder: options.holder,
      label: `restore ${id} → ${options.target}`,
      signal: stop.signal,
      ...(options.lock ? { lock: options.lock } : {}),
      beforeSwap: (collections) => checkCounts(source!.documents, collections, Boolean(subset || anonymize)),
    });
    stop.throwIfStoppedAfterSwap(`${options.target} holds snapshot ${id}`);
    return { snapshotId: id, sha256: manifest.archive.sha256, target: options.target, ...countsOf(loaded), bytes: manifest.archive.sizeBytes, edition, bytesRead: source.bytesRead };
  } finally {
    await source?.remove();
    stop.dispose();
  }
}

/** Without size limits, every collection must arrive whole; with them, never more than the snapshot had. */
function checkCounts(counts: ReadonlyMap<string, number>, loaded: Array<{ name: string; documents: number }>, limited: boolean): void {
  for (const collection of loaded) {
    const expected = counts.get(collection.name) ?? 0;
    const wrong = limited ? collection.documents > expected : collection.documents !== expected;
    if (wrong) {
      throw new UserError(`${collection.name}: loaded ${collection.documents} documents, the manifest says ${expected}`, {
        hint: 'the target was left unchanged; verify the snapshot with `syrf-db verify`',
        exitCode: ExitCode.corrupt,
      });
    }
  }
}
