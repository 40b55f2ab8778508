/**
 * Where snapshots live in a store, and what a snapshot id looks like. The producer
 * writes this layout, restorers read it, and the bucket's IAM conditions grant exactly it.
 */

export const SNAPSHOT_ROOT = 'prod';
export const SNAPSHOT_PREFIX = `${SNAPSHOT_ROOT}/`;
export const LATEST_KEY = `${SNAPSHOT_ROOT}/latest.txt`;
export const DUMP_FILE = 'dump.gz';
export const MANIFEST_FILE = 'manifest.json';
/** The preview edition: the same snapshot, size-limited once by the producer, read by per-PR restores. */
export const PREVIEW_FILE = 'preview.gz';
/** The objects a restorer may read inside a snapshot's directory. */
export const SNAPSHOT_OBJECTS = [DUMP_FILE, MANIFEST_FILE, PREVIEW_FILE] as const;

/** `YYYY-MM-DD`, optionally followed by `-label` (e.g. `2026-01-09-daily`, `2026-01-09-manual-2`). */
export const SNAPSHOT_ID_PATTERN = /^(\d{4})-(\d{2})-(\d{2})(-[a-z0-9][a-z0-9-]{0,40})?$/;
/** What a restore may name: a snapshot id or `latest`. */
export const LATEST_ALIAS = 'latest';
/** The same choice as one pattern, for places that can only hold a regex (config schemas, shell checks). */
export const SNAPSHOT_REF_PATTERN = /^(latest|[0-9]{4}-[0-9]{2}-[0-9]{2}(-[a-z0-9][a-z0-9-]{0,40})?)$/;
