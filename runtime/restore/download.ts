import { createReadStream, createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { ExitCode, UserError } from '../errors.js';
import type { Logger } from '../ops/log.js';
import type { Store } from '../store/store.js';
import { snapshotKeys } from '../store/layout.js';
import type { Manifest } from '../snapshot/manifest.js';
import { HashingStream } from '../util/hashing-stream.js';
import { createRunTempDir, removeAbandonedTempDirs, removeRunTempDir } from '../util/temp-dirs.js';
import { faultPoint } from '../util/fault.js';
import { diskError } from '../util/disk-errors.js';

export interface VerifiedDownload {
  path: string;
  open(): Readable;
  remove(): Promise<void>;
}

/** `syrf-restore-<pid>-XXXXXX`: the pid says whether the run that made it is still alive. */
const DIR_PREFIX = 'syrf-restore-';

/**
 * Streams a snapshot's archive to local disk and checks its sha256 against
 * the manifest, so nothing is written to a database from bytes that do not
 * match what the producer verified.
 */
export async function downloadVerified(store: Store, manifest: Manifest, options: { workDir?: string; signal?: AbortSignal; logger?: Logger } = {}): Promise<VerifiedDownload> {
  const dir = await createDownloadDir(options.workDir, options.logger);
  const path = join(dir, 'dump.gz');
  const remove = () => removeRunTempDir(dir);
  try {
    const hasher = new HashingStream();
    const source = await store.read(snapshotKeys(manifest.id).dump, manifest.archive.generation ? { generation: manifest.archive.generation } : {});
    source.on('data', () => faultPoint('restore.download.chunk'));
    await pipeline(source, hasher, createWriteStream(path), ...(options.signal ? [{ signal: options.signal }] : [])).catch((error: unknown) => {
      if (options.signal?.aborted) throw options.signal.reason;
      throw diskError(error, `writing ${path}`) ?? error;
    });
    const sha256 = hasher.digest();
    if (sha256 !== manifest.archive.sha256 || hasher.bytes !== manifest.archive.sizeBytes) {
      throw new UserError(
        `snapshot ${manifest.id} does not match its manifest: sha256 ${sha256} (${hasher.bytes} bytes), manifest says ${manifest.archive.sha256} (${manifest.archive.sizeBytes} bytes)`,
        { hint: 'nothing was written; the archive is damaged or was replaced: run `syrf-db verify` and restore another id', exitCode: ExitCode.corrupt },
      );
    }
  } catch (error) {
    await remove();
    throw error;
  }
  return { path, open: () => createReadStream(path), remove };
}

/**
 * A fresh directory for this run's copy of snapshot bytes, named after this process so a
 * later run can tell it was abandoned; copies earlier killed runs left behind go first.
 */
export async function createDownloadDir(workDir: string | undefined, logger?: Logger): Promise<string> {
  return createRunTempDir(DIR_PREFIX, { ...(workDir ? { root: workDir } : {}), ...(logger ? { logger } : {}), what: 'a snapshot copy' });
}

/** Snapshot copies left in the work directory by killed runs (their process is gone) are deleted. */
export function removeAbandonedDownloads(root: string, logger?: Logger): Promise<string[]> {
  return removeAbandonedTempDirs(root, DIR_PREFIX, logger, 'a snapshot copy');
}
