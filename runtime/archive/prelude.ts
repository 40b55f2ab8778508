/**
 * Encoding and decoding of the archive's small control documents: the
 * archive header, the per-collection prelude entries and the namespace
 * headers that open a segment or mark a namespace's EOF. Field names and
 * BSON types follow what mongodump writes, so mongorestore accepts ours.
 */
import { BSON, Int32, Long, type Document } from 'bson';
import type { ArchiveHeader, NamespaceMetadata } from './types.js';

export interface NamespaceHeader {
  db: string;
  collection: string;
  eof: boolean;
  /** Unsigned CRC-64; 0 in headers that open a segment. */
  crc: bigint;
}

/** A control document that does not have the expected shape. */
export class ControlDocumentError extends Error {}

export function encodeArchiveHeader(header: ArchiveHeader): Buffer {
  return Buffer.from(
    BSON.serialize({
      concurrent_collections: new Int32(header.concurrentCollections),
      version: header.version,
      server_version: header.serverVersion,
      tool_version: header.toolVersion,
    }),
  );
}

export function decodeArchiveHeader(bytes: Uint8Array): ArchiveHeader {
  const doc = deserialize(bytes, 'archive header');
  return {
    concurrentCollections: optionalNumber(doc, 'concurrent_collections', 'archive header'),
    version: optionalString(doc, 'version', 'archive header'),
    serverVersion: optionalString(doc, 'server_version', 'archive header'),
    toolVersion: optionalString(doc, 'tool_version', 'archive header'),
  };
}

export function encodeNamespaceMetadata(entry: NamespaceMetadata): Buffer {
  return Buffer.from(
    BSON.serialize({
      db: entry.db,
      collection: entry.collection,
      metadata: entry.metadata,
      // Go's `int` field: int32 when it fits, int64 otherwise.
      size: Number.isSafeInteger(entry.size) && Math.abs(entry.size) <= 0x7fffffff ? new Int32(entry.size) : Long.fromNumber(entry.size),
      type: entry.type,
    }),
  );
}

export function decodeNamespaceMetadata(bytes: Uint8Array): NamespaceMetadata {
  const what = 'collection metadata entry';
  const doc = deserialize(bytes, what);
  const entry = {
    db: requiredString(doc, 'db', what),
    collection: requiredString(doc, 'collection', what),
    metadata: optionalString(doc, 'metadata', what),
    size: optionalNumber(doc, 'size', what),
    type: optionalString(doc, 'type', what),
  };
  // MongoDB names and mongorestore's metadata parser cannot hold a NUL; BSON strings can.
  for (const key of ['db', 'collection', 'metadata', 'type'] as const) {
    if (entry[key].includes('\0')) throw new ControlDocumentError(`${what} field "${key}" contains a NUL byte`);
  }
  if (entry.collection === '') throw new ControlDocumentError(`${what} has an empty collection name`);
  return entry;
}

export function encodeNamespaceHeader(header: NamespaceHeader): Buffer {
  return Buffer.from(
    BSON.serialize({
      db: header.db,
      collection: header.collection,
      EOF: header.eof,
      // BSON has only signed int64; the bits are what matter.
      CRC: BigInt.asIntN(64, header.crc),
    }),
  );
}

const NAMESPACE_HEADER_FIELDS = new Set(['db', 'collection', 'EOF', 'CRC']);

export function decodeNamespaceHeader(bytes: Uint8Array): NamespaceHeader {
  const what = 'namespace header';
  const doc = deserialize(bytes, what);
  for (const key of Object.keys(doc)) {
    // mongorestore rejects unknown fields here, so an archive with them would not restore.
    if (!NAMESPACE_HEADER_FIELDS.has(key)) throw new ControlDocumentError(`${what} has an unexpected field "${key}"`);
  }
  const collection = requiredString(doc, 'collection', what);
  if (collection === '') throw new ControlDocumentError(`${what} has an empty collection name`);
  if (collection.includes('\0') || String(doc.db ?? '').includes('\0')) throw new ControlDocumentError(`${what} names a namespace containing a NUL byte`);
  const eof = doc.EOF ?? false;
  if (typeof eof !== 'boolean') throw new ControlDocumentError(`${what} field "EOF" is not a boolean`);
  const crc = doc.CRC ?? 0n;
  if (typeof crc !== 'bigint') throw new ControlDocumentError(`${what} field "CRC" is not a 64-bit integer`);
  return { db: optionalString(doc, 'db', what), collection, eof, crc: BigInt.asUintN(64, crc) };
}

function deserialize(bytes: Uint8Array, what: string): Document {
  try {
    return BSON.deserialize(bytes, { useBigInt64: true, validation: { utf8: true } });
  } catch (error) {
    throw new ControlDocumentError(`${what} is not valid BSON: ${(error as Error).message}`);
  }
}

function requiredString(doc: Document, key: string, what: string): string {
  const value: unknown = doc[key];
  if (typeof value !== 'string') throw new ControlDocumentError(`${what} field "${key}" is missing or not a string`);
  return value;
}

function optionalString(doc: Document, key: string, what: string): string {
  const value: unknown = doc[key];
  if (value === undefined) return '';
  if (typeof value !== 'string') throw new ControlDocumentError(`${what} field "${key}" is not a string`);
  return value;
}

function optionalNumber(doc: Document, key: string, what: string): number {
  const value: unknown = doc[key];
  if (value === undefined) return 0;
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'bigint') return Number(value);
  throw new ControlDocumentError(`${what} field "${key}" is not a number`);
}
