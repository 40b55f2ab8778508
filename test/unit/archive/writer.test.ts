import { createReadStream, createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { BSON } from 'bson';
import { afterEach, describe, expect, it } from 'vitest';
import { openArchive, readArchive } from '../../../runtime/archive/reader.js';
import type { ArchiveEvent } from '../../../runtime/archive/types.js';
import { ArchiveWriter, createGzipArchiveWriter, writeEvents } from '../../../runtime/archive/writer.js';
import { HEADER, MemorySink, bson, collect, namespace, rejection, split, summarize, writeArchive } from './helpers.js';

const docs = Array.from({ length: 50 }, (_, i) => bson({ _id: i, body: 'y'.repeat(40) }));

async function fill(w: ArchiveWriter): Promise<void> {
  await w.writePrelude(HEADER, [namespace('db', 'a')]);
  await w.writeSegment('db', 'a', docs);
  await w.writeEof('db', 'a');
}

describe('ArchiveWriter', () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('refuses misuse with a message naming the mistake', async () => {
    const w = new ArchiveWriter(new MemorySink());
    await expect(w.writeSegment('db', 'a', docs)).rejects.toThrow(/write the prelude before any namespace data/);
    await w.writePrelude(HEADER, [namespace('db', 'a'), namespace('db', 'b')]);
    await expect(w.writePrelude(HEADER, [])).rejects.toThrow(/prelude was already written/);
    await expect(w.writeSegment('db', 'nope', docs)).rejects.toThrow(/namespace db\.nope is not in the prelude/);
    await expect(w.writeSegment('db', 'a', [Buffer.from('not bson')])).rejects.toThrow(/not a BSON document/);
    await w.writeEof('db', 'a');
    await expect(w.writeSegment('db', 'a', docs)).rejects.toThrow(/namespace db\.a already has its EOF/);
    await expect(w.writeEof('db', 'a')).rejects.toThrow(/namespace db\.a already has its EOF/);
    await expect(w.end()).rejects.toThrow(/no EOF written for db\.b/);
    await w.writeEof('db', 'b');
    await w.end();
    await expect(w.writeEof('db', 'b')).rejects.toThrow(/already ended/);
  });

  it('refuses a prelude listing a namespace twice, or a server version mongorestore cannot parse', async () => {
    await expect(new ArchiveWriter(new MemorySink()).writePrelude(HEADER, [namespace('db', 'a'), namespace('db', 'a')])).rejects.toThrow(/listed twice/);
    await expect(new ArchiveWriter(new MemorySink()).writePrelude({ ...HEADER, serverVersion: 'FerretDB' }, [])).rejects.toThrow(/serverVersion must look like/);
    await new ArchiveWriter(new MemorySink()).writePrelude({ ...HEADER, serverVersion: '7.0.42-ferretdb-1.24.2' }, []);
  });

  it('writes nothing for an empty segment', async () => {
    const without = await writeArchive(fill);
    const withEmpty = await writeArchive(async (w) => {
      await w.writePrelude(HEADER, [namespace('db', 'a')]);
      await w.writeSegment('db', 'a', []);
      await w.writeSegment('db', 'a', docs);
      await w.writeSegment('db', 'a', []);
      await w.writeEof('db', 'a');
    });
    expect(withEmpty.equals(without)).toBe(true);
  });

  it('waits for the output to drain instead of buffering the whole archive', async () => {
    const sink = new MemorySink({ highWaterMark: 256, delayMs: 1 });
    let maxBuffered = 0;
    const write = sink.write.bind(sink);
    sink.write = ((chunk: Buffer, ...rest: never[]) => {
      maxBuffered = Math.max(maxBuffered, sink.writableLength + chunk.length);
      return write(chunk, ...rest);
    }) as typeof sink.write;
    const w = new ArchiveWriter(sink, { chunkBytes: 200 });
    await w.writePrelude(HEADER, [namespace('db', 'a')]);
    for (const doc of docs) await w.writeSegment('db', 'a', [doc]);
    await w.writeEof('db', 'a');
    await w.end();
    const total = sink.bytes.length;
    expect(total).toBeGreaterThan(4000);
    expect(maxBuffered).toBeLessThan(1000);
    expect(summarize(await collect(readArchive(split(sink.bytes))))['db.a']!.documents).toHaveLength(50);
  });

  it('surfaces an output failure instead of hanging', async () => {
    const broken = new Writable({ highWaterMark: 1, write: (_c, _e, cb) => cb(new Error('disk full')) });
    broken.on('error', () => undefined);
    const w = new ArchiveWriter(broken, { chunkBytes: 1 });
    const error = await rejection(fill(w).then(() => w.end()));
    expect(error.message).toBe('disk full');
  });

  it('createGzipArchiveWriter writes one gzip stream that holds the same archive, complete when end() resolves', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'archive-writer-'));
    dirs.push(dir);
    const path = join(dir, 'dump.gz');
    const w = createGzipArchiveWriter(createWriteStream(path), { level: 9 });
    await fill(w);
    await w.end();
    const { readFileSync } = await import('node:fs');
    expect(gunzipSync(readFileSync(path)).equals(await writeArchive(fill))).toBe(true);
    expect(summarize(await collect(openArchive(createReadStream(path))))['db.a']!.documents).toHaveLength(50);
  });

  it('end() reports documents per namespace', async () => {
    const sink = new MemorySink();
    const w = new ArchiveWriter(sink);
    await fill(w);
    expect(await w.end()).toEqual([{ db: 'db', collection: 'a', documents: 50 }]);
    expect(w.bytes).toBe(sink.bytes.length);
  });

  it('writeEvents composes reader → transform → writer, with CRCs recomputed for changed documents', async () => {
    const source = await writeArchive(fill);
    async function* redact(events: AsyncIterable<ArchiveEvent>): AsyncGenerator<ArchiveEvent> {
      for await (const event of events) {
        if (event.type !== 'segment') yield event;
        else yield { ...event, documents: event.documents.map((d) => bson({ ...BSON.deserialize(d), body: 'redacted' })) };
      }
    }
    const sink = new MemorySink();
    const w = new ArchiveWriter(sink);
    await writeEvents(redact(readArchive(split(source))), w);
    await w.end();
    const events = await collect(readArchive(split(sink.bytes)));
    const bodies = events.flatMap((e) => (e.type === 'segment' ? e.documents.map((d) => BSON.deserialize(d).body) : []));
    expect(bodies).toEqual(Array(50).fill('redacted'));
  });
});
