/**
 * The vocabulary of a mongodump archive as the rest of the project sees it.
 * The reader yields these events; the writer consumes them.
 */

/** The archive-level header that follows the magic number. */
export interface ArchiveHeader {
  concurrentCollections: number;
  version: string;
  serverVersion: string;
  toolVersion: string;
}

/** One collection's entry in the prelude. */
export interface NamespaceMetadata {
  db: string;
  collection: string;
  /** canonical Extended JSON v2, as mongodump writes (see metadata.ts) */
  metadata: string;
  size: number;
  /** '' | 'view' | 'timeseries' (mongodump itself writes 'collection' for ordinary collections) */
  type: string;
}

export type ArchiveEvent =
  | { type: 'prelude'; header: ArchiveHeader; namespaces: NamespaceMetadata[] }
  /** raw BSON documents, byte-exact as in the stream */
  | { type: 'segment'; db: string; collection: string; documents: Buffer[] }
  | { type: 'eof'; db: string; collection: string; crc: bigint };
