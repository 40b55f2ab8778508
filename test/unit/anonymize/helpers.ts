import { BSON, type Document } from 'bson';
import type { ArchiveEvent, NamespaceMetadata } from '../../../runtime/archive/types.js';
import { DECODE_OPTIONS } from '../../../runtime/anonymize/engine.js';
import { parseRules, type Rules } from '../../../runtime/anonymize/rules.js';

export const TEST_KEY = Buffer.from('test-key-0123456789-abcdefghijklmnopqrstuvwxyz');
export const OTHER_KEY = Buffer.from('another-key-9876543210-zyxwvutsrqponmlkjihgfedcba');
export const DB = 'syrftest';

export function rules(yaml: string): Rules {
  return parseRules(yaml, 'test-rules.yaml');
}

export function bson(doc: Document): Buffer {
  return Buffer.from(BSON.serialize(doc));
}

export function decode(bytes: Buffer): Document {
  return BSON.deserialize(bytes, DECODE_OPTIONS);
}

export function namespace(collection: string, type = ''): NamespaceMetadata {
  return { db: DB, collection, metadata: '{}', size: 0, type };
}

export function prelude(...collections: string[]): ArchiveEvent {
  return {
    type: 'prelude',
    header: { concurrentCollections: 4, version: '0.1', serverVersion: '7.0.0', toolVersion: 'test' },
    namespaces: collections.map((c) => namespace(c)),
  };
}

export function segment(collection: string, docs: Document[]): ArchiveEvent {
  return { type: 'segment', db: DB, collection, documents: docs.map(bson) };
}

export function eof(collection: string): ArchiveEvent {
  return { type: 'eof', db: DB, collection, crc: 0n };
}

export async function* fromArray(events: ArchiveEvent[]): AsyncGenerator<ArchiveEvent> {
  for (const event of events) yield event;
}

export async function collect(events: AsyncIterable<ArchiveEvent>): Promise<ArchiveEvent[]> {
  const out: ArchiveEvent[] = [];
  for await (const event of events) out.push(event);
  return out;
}

/** Decoded documents of `collection` in output order. */
export function documentsOf(events: ArchiveEvent[], collection: string): Document[] {
  return events.flatMap((e) => (e.type === 'segment' && e.collection === collection ? e.documents.map(decode) : []));
}

/** One raw BSON element (type byte, name, value bytes), for documents a JavaScript object cannot express. */
export function element(type: number, name: string, value: Buffer): Buffer {
  return Buffer.concat([Buffer.from([type]), Buffer.from(name, 'utf8'), Buffer.from([0]), value]);
}

/** A raw BSON document of the given elements, in that order (duplicates and all). */
export function documentOf(...elements: Buffer[]): Buffer {
  const body = Buffer.concat(elements);
  const out = Buffer.alloc(4 + body.length + 1);
  out.writeInt32LE(out.length, 0);
  body.copy(out, 4);
  return out;
}
