import type { MongoClient } from 'mongodb';
import { ExitCode, UserError } from '../errors.js';
import { openArchive } from '../archive/reader.js';
import type { ArchiveEvent } from '../archive/types.js';
import type { Logger } from '../ops/log.js';
import type { Store } from '../store/store.js';
import { loadManifest, resolveSnapshotId } from '../snapshot/catalog.js';
import type { Manifest } from '../snapshot/manifest.js';
import { downloadVerified, type VerifiedDownload } from './download.js';
import { plausiblePseudonyms } from '../snapshot/plausibility.js';
import type { Rules } from '../anonymize/rules.js';
import { checkAnonymizationRequirement, checkRestoreTarget } from './guard.js';
import { countsOf, finishInterruptedSwapIfAny, writeIntoTarget, type CollectionCounts } from './into-target.js';
import { chooseCollections, selectCollections } from './select.js';
import { watchStopSignals } from './stop-signals.js';
import { isRestoreInternal } from './temp-names.js';
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
  holder: string;
  logger: Logger;
  lock?: IntoTargetOptions['lock'];
}

export interface RestoreResult extends CollectionCounts {
  snapshotId: string;
  sha256: string;
  target: string;
  bytes: number;
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

  const stop = watchStopSignals(logger, `restore ${id} → ${options.target}`);
  const db = options.client.db(options.target);
  let download: VerifiedDownload | undefined;
  try {
    // A swap a killed run left half done is finished first, before this run downloads anything.
    await finishInterruptedSwapIfAny(db, { holder: options.holder, logger, ...(options.lock ? { lock: options.lock } : {}) });
    logger.info(`restore ${id} → ${options.target}: downloading and checking ${manifest.archive.sizeBytes} bytes`, { snapshot: id, target: options.target });
    // Downloaded and checked before the lock is taken, so a damaged snapshot writes nothing at all to the target.
    download = await downloadVerified(store, manifest, { ...(options.workDir ? { workDir: options.workDir } : {}), signal: stop.signal, logger });
    let events: AsyncIterable<ArchiveEvent> = selectCollections(openArchive(download.open()), wanted);
    // A raw snapshot goes through the anonymizer, which applies the size limits itself.
    if (manifest.anonymization.anonymized && options.rules) events = plausiblePseudonyms(events, options.rules, { snapshotId: id });
    const anonymize = manifest.anonymization.anonymized ? undefined : options.anonymize;
    if (anonymize) events = anonymize(events);
    else if (options.subset) events = options.subset(events);

    const loaded = await writeIntoTarget(db, events, {
      logger,
      holder: options.holder,
      label: `restore ${id} → ${options.target}`,
      signal: stop.signal,
      ...(options.lock ? { lock: options.lock } : {}),
      beforeSwap: (collections) => checkCounts(manifest, collections, Boolean(options.subset || anonymize)),
    });
    stop.throwIfStoppedAfterSwap(`${options.target} holds snapshot ${id}`);
    return { snapshotId: id, sha256: manifest.archive.sha256, target: options.target, ...countsOf(loaded), bytes: manifest.archive.sizeBytes };
  } finally {
    await download?.remove();
    stop.dispose();
  }
}

/** Without size limits, every collection must arrive whole; with them, never more than the snapshot had. */
function checkCounts(manifest: Manifest, loaded: Array<{ name: string; documents: number }>, limited: boolean): void {
  for (const collection of loaded) {
    const expected = manifest.collections.find((c) => c.name === collection.name)?.documents ?? 0;
    const wrong = limited ? collection.documents > expected : collection.documents !== expected;
    if (wrong) {
      throw new UserError(`${collection.name}: loaded ${collection.documents} documents, the manifest says ${expected}`, {
        hint: 'the target was left unchanged; verify the snapshot with `syrf-db verify`',
        exitCode: ExitCode.corrupt,
      });
    }
  }
}
