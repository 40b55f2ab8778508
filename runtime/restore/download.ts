import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { ExitCode, UserError } from '../errors.js';
import type { Store } from '../store/store.js';
import { snapshotKeys } from '../store/layout.js';
import type { Manifest } from '../snapshot/manifest.js';
import { HashingStream } from '../util/hashing-stream.js';

export interface VerifiedDownload {
  path: string;
  open(): Readable;
  remove(): Promise<void>;
}

/**
 * Streams a snapshot's archive to local disk and checks its sha256 against
 * the manifest, so nothing is written to a database from bytes that do not
 * match what the producer verified.
 */
export async function downloadVerified(store: Store, manifest: Manifest, workDir?: string): Promise<VerifiedDownload> {
  const dir = await mkdtemp(join(workDir ?? tmpdir(), 'syrf-restore-'));
  const path = join(dir, 'dump.gz');
  const remove = () => rm(dir, { recursive: true, force: true });
  try {
    const hasher = new HashingStream();
    await pipeline(await store.read(snapshotKeys(manifest.id).dump), hasher, createWriteStream(path));
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
