/**
 * Archives written by the real mongodump (see test/fixtures/archive/README.md):
 * our reader must accept them, verify their CRCs, and recover exactly the
 * documents and index specs that were on the server.
 */
import { readFileSync } from 'node:fs';
import { BSON } from 'bson';
import { describe, expect, it } from 'vitest';
import { crc64 } from '../../../runtime/archive/crc64.js';
import { ArchiveFormatError } from '../../../runtime/archive/errors.js';
import { buildCollectionMetadata, parseCollectionMetadata } from '../../../runtime/archive/metadata.js';
import { openArchive, readArchive } from '../../../runtime/archive/reader.js';
import { ArchiveWriter, writeEvents } from '../../../runtime/archive/writer.js';
import { canonicalDocuments, canonicalIndexes } from '../../fixtures/archive/mongo-tools.js';
import { MemorySink, collect, inPieces, rejection, split } from './helpers.js';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/archive/${name}`, import.meta.url));
const expected = JSON.parse(fixture('mongodump-expected.json').toString('utf8')) as {
  db: string;
  collections: { name: string; documents: string[]; indexes: string[] }[];
};

describe.each(['mongodump.archive.gz', 'mongodump.archive'])('mongodump fixture %s', (file) => {
  it('yields the prelude, every document and a verified CRC per collection', async () => {
    const events = await collect(openArchive(inPieces(fixture(file), 4096), { source: file }));
    const prelude = events[0];
    if (prelude?.type !== 'prelude') throw new Error('no prelude first');
    expect(prelude.header.version).toBe('0.1');
    expect(prelude.header.serverVersion).toMatch(/^\d+\.\d+\.\d+/);
    expect(prelude.namespaces.map((n) => n.collection).sort()).toEqual(expected.collections.map((c) => c.name).sort());

    for (const collection of expected.collections) {
      const entry = prelude.namespaces.find((n) => n.collection === collection.name)!;
      expect(entry.db).toBe(expected.db);
      const metadata = parseCollectionMetadata(entry.metadata);
      expect(metadata.collectionName).toBe(collection.name);
      expect(canonicalIndexes(metadata.indexes)).toEqual(collection.indexes);
      expect(buildCollectionMetadata(metadata)).toBe(entry.metadata);

      const raw = events.flatMap((e) => (e.type === 'segment' && e.collection === collection.name ? e.documents : []));
      expect(canonicalDocuments(raw.map((d) => BSON.deserialize(d, { promoteValues: false })))).toEqual(collection.documents);
      const eof = events.find((e) => e.type === 'eof' && e.collection === collection.name);
      expect(eof?.type === 'eof' && eof.crc).toBe(crc64(Buffer.concat(raw)));
    }
  });
});

describe('mongodump fixtures, byte level', () => {
  it('the gzip fixture decompresses to an archive with the same documents as the plain one', async () => {
    const docs = async (bytes: Buffer) =>
      (await collect(openArchive(split(bytes)))).flatMap((e) => (e.type === 'segment' ? e.documents.map((d) => d.toString('hex')) : [])).sort();
    expect(await docs(fixture('mongodump.archive.gz'))).toEqual(await docs(fixture('mongodump.archive')));
  });

  it('our writer re-encodes the plain fixture byte for byte', async () => {
    const original = fixture('mongodump.archive');
    const sink = new MemorySink();
    const writer = new ArchiveWriter(sink);
    await writeEvents(readArchive(split(original)), writer);
    await writer.end();
    expect(sink.bytes.equals(original)).toBe(true);
  });

  it('rejects the fixture with one document byte changed (CRC mismatch)', async () => {
    const damaged = Buffer.from(fixture('mongodump.archive'));
    const at = damaged.indexOf(Buffer.from('Systematic review'));
    damaged[at] = 's'.charCodeAt(0);
    const error = await rejection(collect(readArchive(split(damaged))));
    expect(error).toBeInstanceOf(ArchiveFormatError);
    expect(error.message).toMatch(/CRC-64 mismatch.*in namespace syrf_fixture\.pmProject/);
  });
});
