/**
 * The generated datasets are pinned byte for byte: the committed mongodump
 * fixtures (test/fixtures/archive/) were made from fixtureDataset(), and bench
 * ratios are compared across runs on benchDataset(). The hashes were taken
 * from the generators before they shared test/support/random.ts; a changed
 * hash means the fixtures must be regenerated (make-fixtures.ts), not that
 * the pin should be updated silently.
 */
import { createHash } from 'node:crypto';
import { BSON } from 'bson';
import { describe, expect, it } from 'vitest';
import { benchDataset } from '../../../bench/dataset.js';
import { fixtureDataset } from '../../support/fixture-dataset.js';
import { seededRandom } from '../../support/random.js';

describe('the seeded datasets', () => {
  it('fixtureDataset() gives exactly the documents and indexes the committed mongodump fixtures were made from', () => {
    const hash = createHash('sha256');
    for (const collection of fixtureDataset()) {
      hash.update(collection.name);
      hash.update(JSON.stringify(collection.indexes));
      for (const document of collection.documents) hash.update(BSON.serialize(document));
    }
    expect(hash.digest('hex')).toBe('1f6153b1c7bb165081ef612d434cdc2e2674775c5afed6b85d11812dd51ea6f5');
  });

  it('benchDataset() gives the same documents as before, so bench runs stay comparable', () => {
    const hash = createHash('sha256');
    for (const collection of benchDataset({ studies: 500 })) {
      hash.update(collection.name);
      hash.update(JSON.stringify(collection.indexes));
      for (const document of collection.documents()) hash.update(BSON.serialize(document));
    }
    expect(hash.digest('hex')).toBe('68fcf59adac11447887702c993a81a645e3aa51c3b97e55c0cc71ade3a68e9a4');
  });

  it('seededRandom is mulberry32: the same seed gives the same sequence everywhere', () => {
    const random = seededRandom(20260109);
    const first = Array.from({ length: 3 }, () => random());
    const again = seededRandom(20260109);
    expect(Array.from({ length: 3 }, () => again())).toEqual(first);
    expect(first.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(seededRandom(1)()).not.toBe(seededRandom(2)());
  });
});
