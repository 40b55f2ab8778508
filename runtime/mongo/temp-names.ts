/**
 * Restores write into `_syrf_tmp_<collection>` and put them under the real
 * name only when everything has loaded; on servers without an atomic
 * rename-over, the collection being replaced is first renamed aside to
 * `_syrf_old_<collection>`. The prefixes are fixed (not per run), so the
 * next run under the lock finds whatever a killed run left behind.
 */
export const TEMP_PREFIX = '_syrf_tmp_';
export const OLD_PREFIX = '_syrf_old_';
/** Restores must never drop, rename or copy this collection. */
export const LOCK_COLLECTION = '_syrf_restore_lock';

export function tempNameFor(collection: string): string {
  return `${TEMP_PREFIX}${collection}`;
}

export function oldNameFor(collection: string): string {
  return `${OLD_PREFIX}${collection}`;
}

/** A restore's own scratch collection (loaded data, or data being replaced). */
export function isTempName(name: string): boolean {
  return name.startsWith(TEMP_PREFIX) || name.startsWith(OLD_PREFIX);
}

/** Collections restores create for themselves: never data, so snapshots and clones skip them. */
export function isRestoreInternal(name: string): boolean {
  return name === LOCK_COLLECTION || isTempName(name);
}
