/**
 * Restores write into `_syrf_tmp_<collection>` and rename over the real
 * name only when everything has loaded. The prefix is fixed (not per run),
 * so the next run under the lock finds and drops whatever a killed run
 * left behind.
 */
export const TEMP_PREFIX = '_syrf_tmp_';

export function tempNameFor(collection: string): string {
  return `${TEMP_PREFIX}${collection}`;
}

export function isTempName(name: string): boolean {
  return name.startsWith(TEMP_PREFIX);
}
