import { BSON, Decimal128, Double, Int32, Long, MaxKey, MinKey, ObjectId, Binary } from 'bson';
import { describe, expect, it } from 'vitest';
import { crc64 } from '../../../runtime/archive/crc64.js';
import { readArchive } from '../../../runtime/archive/reader.js';
import { writeEvents, ArchiveWriter } from '../../../runtime/archive/writer.js';
import { HEADER, MemorySink, bson, collect, inPieces, namespace, split, summarize, writeArchive } from './helpers.js';

/** Values real MongoDB stores but FerretDB cannot: the archive layer must carry them byte for byte. */
const unusual = [
  { _id: new ObjectId('65a1b2c3d4e5f60718293a4b'), price: Decimal128.fromString('1234.5678901234567890123456789012') },
  { _id: 2, low: new MinKey(), high: new MaxKey() },
  { _id: 3, matrix: [[1, 2], [3, [4, 5]]], 'dotted.key': { '$dollar': true, 'a.b.c': 'x' } },
  { _id: 4, int: new Int32(7), long: Long.fromString('9007199254740993'), double: new Double(1), bin: new Binary(Buffer.from('guid-bytes-here!'), 3) },
];

const studies = Array.from({ length: 25 }, (_, i) => ({ _id: i, title: `study ${i}`, tags: ['a', 'b'].slice(0, i % 3) }));
const projects = Array.from({ length: 9 }, (_, i) => ({ _id: `p${i}`, nested: { deeper: { n: i } } }));

async function interleavedArchive(): Promise<Buffer> {
  return writeArchive(async (w) => {
    await w.writePrelude(HEADER, [namespace('syrf', 'pmStudy'), namespace('syrf', 'pmProject'), namespace('syrf', 'unusual'), namespace('syrf', 'empty')]);
    await w.writeSegment('syrf', 'pmStudy', studies.slice(0, 10).map(bson));
    await w.writeSegment('syrf', 'pmProject', projects.slice(0, 4).map(bson));
    await w.writeSegment('syrf', 'unusual', unusual.map(bson));
    await w.writeEof('syrf', 'unusual');
    await w.writeSegment('syrf', 'pmStudy', studies.slice(10).map(bson));
    await w.writeSegment('syrf', 'pmProject', []);
    await w.writeSegment('syrf', 'pmProject', projects.slice(4).map(bson));
    await w.writeEof('syrf', 'empty');
    await w.writeEof('syrf', 'pmStudy');
    await w.writeEof('syrf', 'pmProject');
  });
}

describe('archive round trip', () => {
  it('reads back interleaved namespaces with byte-exact documents, prelude and per-namespace CRCs', async () => {
    const archive = await interleavedArchive();
    const events = await collect(readArchive(split(archive)));

    const prelude = events[0];
    expect(prelude).toEqual({
      type: 'prelude',
      header: HEADER,
      namespaces: [namespace('syrf', 'pmStudy'), namespace('syrf', 'pmProject'), namespace('syrf', 'unusual'), namespace('syrf', 'empty')],
    });
    const byNamespace = summarize(events);
    const expectDocs = (docs: object[]) => docs.map((d) => bson(d).toString('hex'));
    expect(byNamespace['syrf.pmStudy']!.documents).toEqual(expectDocs(studies));
    expect(byNamespace['syrf.pmProject']!.documents).toEqual(expectDocs(projects));
    expect(byNamespace['syrf.unusual']!.documents).toEqual(expectDocs(unusual));
    expect(byNamespace['syrf.empty']).toEqual({ documents: [], crc: 0n });
    expect(byNamespace['syrf.pmStudy']!.crc).toBe(crc64(Buffer.concat(studies.map(bson))));

    // The unusual values survive decoding too, not just the bytes.
    const decoded = events.flatMap((e) => (e.type === 'segment' && e.collection === 'unusual' ? e.documents : [])).map((d) => BSON.deserialize(d));
    expect(decoded[0]!.price.toString()).toBe('1234.5678901234567890123456789012');
    expect(decoded[1]!.low).toBeInstanceOf(MinKey);
    expect(decoded[2]!.matrix).toEqual([[1, 2], [3, [4, 5]]]);
    expect(decoded[2]!['dotted.key']).toEqual({ $dollar: true, 'a.b.c': 'x' });
  });

  it('keeps the interleaving order of segments and EOFs', async () => {
    const events = await collect(readArchive(split(await interleavedArchive())));
    const order = events.slice(1).map((e) => (e.type === 'prelude' ? 'prelude' : `${e.type}:${e.collection}`));
    expect(order).toEqual([
      'segment:pmStudy',
      'segment:pmProject',
      'segment:unusual',
      'eof:unusual',
      'segment:pmStudy',
      'segment:pmProject',
      'eof:empty',
      'eof:pmStudy',
      'eof:pmProject',
    ]);
  });

  it('produces the same events wherever the chunk boundaries fall (every split point, and 1-byte chunks)', async () => {
    const archive = await interleavedArchive();
    const reference = summarize(await collect(readArchive(split(archive))));
    for (let cut = 1; cut < archive.length; cut++) {
      expect(summarize(await collect(readArchive(split(archive, [cut])))), `cut at ${cut}`).toEqual(reference);
    }
    expect(summarize(await collect(readArchive(inPieces(archive, 1))))).toEqual(reference);
    expect(summarize(await collect(readArchive(inPieces(archive, 3))))).toEqual(reference);
  });

  it('caps each yielded batch by document count and by bytes', async () => {
    const many = Array.from({ length: 2500 }, (_, i) => bson({ _id: i }));
    const archive = await writeArchive(async (w) => {
      await w.writePrelude(HEADER, [namespace('db', 'big')]);
      await w.writeSegment('db', 'big', many);
      await w.writeEof('db', 'big');
    });
    const byCount = await collect(readArchive(split(archive), { maxBatchDocuments: 1000 }));
    expect(byCount.filter((e) => e.type === 'segment').map((e) => (e.type === 'segment' ? e.documents.length : 0))).toEqual([1000, 1000, 500]);
    const byBytes = await collect(readArchive(split(archive), { maxBatchBytes: many[0]!.length * 100 }));
    const sizes = byBytes.flatMap((e) => (e.type === 'segment' ? [e.documents.length] : []));
    expect(Math.max(...sizes)).toBeLessThanOrEqual(100);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(2500);
  });

  it('hands out documents as views of the input chunk when a document lies inside one chunk', async () => {
    const archive = await interleavedArchive();
    const chunk = Buffer.from(archive);
    const events = await collect(readArchive((async function* () { yield chunk; })()));
    const first = events.find((e) => e.type === 'segment');
    expect(first?.type === 'segment' && first.documents[0]!.buffer).toBe(chunk.buffer);
  });

  it('re-writes a read archive byte for byte through writeEvents', async () => {
    const archive = await interleavedArchive();
    const sink = new MemorySink();
    const writer = new ArchiveWriter(sink);
    await writeEvents(readArchive(inPieces(archive, 100)), writer);
    await writer.end();
    expect(sink.bytes.equals(archive)).toBe(true);
  });

  it('reads an archive whose prelude lists no namespaces', async () => {
    const archive = await writeArchive(async (w) => w.writePrelude(HEADER, []));
    expect(await collect(readArchive(split(archive)))).toEqual([{ type: 'prelude', header: HEADER, namespaces: [] }]);
  });
});
