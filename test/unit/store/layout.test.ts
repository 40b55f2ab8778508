import { describe, expect, it } from 'vitest';
import { UserError } from '../../../runtime/errors.js';
import { defaultSnapshotId, formatLatest, isSnapshotId, parseLatest, snapshotIdOfKey, snapshotKeys } from '../../../runtime/store/layout.js';
import { openStore } from '../../../runtime/store/open.js';

describe('snapshot layout', () => {
  it('places a snapshot under prod/<id>/', () => {
    expect(snapshotKeys('2026-01-09')).toEqual({
      dir: 'prod/2026-01-09/',
      dump: 'prod/2026-01-09/dump.gz',
      manifest: 'prod/2026-01-09/manifest.json',
      failed: 'prod/2026-01-09/FAILED.json',
    });
    expect(snapshotIdOfKey('prod/2026-01-09-daily/dump.gz')).toBe('2026-01-09-daily');
    expect(snapshotIdOfKey('prod/latest.txt')).toBeNull();
  });

  it.each(['2026-01-09', '2026-01-09-daily', '2024-02-29-manual-2'])('accepts %s', (id) => expect(isSnapshotId(id)).toBe(true));
  it.each(['latest', '2026-02-30', '2026-1-9', '../2026-01-09', '2026-01-09/x', '2026-01-09-UPPER', ''])('rejects %j', (id) => {
    expect(isSnapshotId(id)).toBe(false);
    expect(() => snapshotKeys(id)).toThrow(UserError);
  });

  it('names the default id after the UTC date', () => {
    expect(defaultSnapshotId(new Date('2026-01-09T23:59:59-05:00'))).toBe('2026-01-10');
  });

  it('reads latest.txt as prod/<id> and as a bare id', () => {
    expect(parseLatest(formatLatest('2026-01-09'))).toBe('2026-01-09');
    expect(parseLatest('2026-01-09\n')).toBe('2026-01-09');
    expect(() => parseLatest('garbage')).toThrow(/latest\.txt holds "garbage", which is not a snapshot id/);
  });
});

describe('openStore', () => {
  it('rejects unknown schemes with the accepted forms', () => {
    expect(() => openStore('s3://bucket')).toThrow(/unsupported store "s3:\/\/bucket"/);
    expect(() => openStore('gs://UPPER')).toThrow(/does not name a valid GCS bucket/);
  });
  it('describes objects with their full URL', () => {
    expect(openStore('gs://syrf-db-snapshots/env').describe('prod/latest.txt')).toBe('gs://syrf-db-snapshots/env/prod/latest.txt');
    expect(openStore('file:///tmp/x').describe('prod/latest.txt')).toBe('file:///tmp/x/prod/latest.txt');
  });
});
