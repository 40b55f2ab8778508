import { UserError } from '../errors.js';
import type { Store, StoredObject } from '../store/store.js';
import {
  DUMP_FILE,
  FAILED_FILE,
  LATEST_KEY,
  MANIFEST_FILE,
  SNAPSHOT_ROOT,
  assertSnapshotId,
  parseLatest,
  snapshotIdOfKey,
  snapshotKeys,
} from '../store/layout.js';
import { parseManifest, type Manifest } from './manifest.js';
import { checkManifestTrust } from './signature.js';

export type SnapshotStatus = 'complete' | 'incomplete' | 'failed';

export interface SnapshotEntry {
  id: string;
  status: SnapshotStatus;
  /** Why the status is not `complete`. */
  reason?: string;
  manifest?: Manifest;
  dumpBytes?: number;
  /** When the newest object of the snapshot was written. */
  updated: Date;
  isLatest: boolean;
}

/** Every snapshot in the store, newest first, with its status read from what is actually there. */
export async function listSnapshots(store: Store): Promise<SnapshotEntry[]> {
  const objects = await store.list(`${SNAPSHOT_ROOT}/`);
  const latestId = await readLatestId(store, objects);
  const byId = new Map<string, StoredObject[]>();
  for (const object of objects) {
    const id = snapshotIdOfKey(object.key);
    if (!id) continue;
    byId.set(id, [...(byId.get(id) ?? []), object]);
  }
  const entries: SnapshotEntry[] = [];
  for (const [id, files] of byId) {
    entries.push(await describeSnapshot(store, id, files, id === latestId));
  }
  return entries.sort((a, b) => b.id.localeCompare(a.id));
}

async function describeSnapshot(store: Store, id: string, files: StoredObject[], isLatest: boolean): Promise<SnapshotEntry> {
  const find = (name: string) => files.find((f) => f.key.endsWith(`/${name}`));
  const dump = find(DUMP_FILE);
  const manifestObject = find(MANIFEST_FILE);
  const failed = find(FAILED_FILE);
  const updated = new Date(Math.max(...files.map((f) => f.updated.getTime())));
  const base = { id, updated, isLatest, ...(dump ? { dumpBytes: dump.size } : {}) };
  if (failed) {
    const reason = await store.readText(failed.key).then(
      (text) => (JSON.parse(text) as { error?: string }).error ?? 'failed',
      () => 'failed',
    );
    return { ...base, status: 'failed', reason };
  }
  if (!manifestObject) return { ...base, status: 'incomplete', reason: dump ? 'no manifest' : 'no archive and no manifest' };
  let manifest: Manifest;
  try {
    manifest = parseManifest(await store.readText(manifestObject.key), store.describe(manifestObject.key));
  } catch (error) {
    return { ...base, status: 'failed', reason: (error as Error).message };
  }
  if (!dump) return { ...base, manifest, status: 'failed', reason: 'archive missing' };
  if (dump.size !== manifest.archive.sizeBytes) {
    return { ...base, manifest, status: 'failed', reason: `archive is ${dump.size} bytes, manifest says ${manifest.archive.sizeBytes}` };
  }
  return { ...base, manifest, status: 'complete' };
}

async function readLatestId(store: Store, objects?: StoredObject[]): Promise<string | null> {
  const present = objects ? objects.some((o) => o.key === LATEST_KEY) : (await store.stat(LATEST_KEY)) !== null;
  if (!present) return null;
  return parseLatest(await store.readText(LATEST_KEY));
}

/**
 * `latest` or a dated id → an id whose manifest exists. Unknown ids name
 * the ids that do exist, so a typo is a one-step fix.
 */
export async function resolveSnapshotId(store: Store, requested: string): Promise<string> {
  if (requested === 'latest') {
    const id = await readLatestId(store);
    if (!id) {
      throw new UserError(`${store.describe(LATEST_KEY)} does not exist: the store has no complete snapshot yet`, {
        hint: 'take one with `syrf-db snapshot`, or name a snapshot id (`syrf-db list --from ' + store.url + '`)',
      });
    }
    return id;
  }
  assertSnapshotId(requested);
  if (!(await store.stat(snapshotKeys(requested).manifest))) {
    const known = (await listSnapshots(store)).filter((s) => s.status === 'complete').map((s) => s.id);
    throw new UserError(`snapshot "${requested}" does not exist in ${store.url} (or is incomplete)`, {
      hint: known.length ? `complete snapshots: ${known.slice(0, 10).join(', ')}${known.length > 10 ? ', …' : ''}` : 'the store has no complete snapshot; take one with `syrf-db snapshot`',
    });
  }
  return requested;
}

export async function loadManifest(store: Store, id: string): Promise<Manifest> {
  const key = snapshotKeys(id).manifest;
  const text = await store.readText(key);
  checkManifestTrust(text, `the manifest of snapshot ${id} (${store.describe(key)})`);
  return parseManifest(text, store.describe(key));
}

