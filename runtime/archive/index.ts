/** The mongodump archive layer: framing, checksums, compression, metadata. No knowledge of MongoDB servers or anonymization. */
export type { ArchiveEvent, ArchiveHeader, NamespaceMetadata } from './types.js';
export { ArchiveFormatError } from './errors.js';
export { readArchive, openArchive, type ReadArchiveOptions } from './reader.js';
export { ArchiveWriter, createGzipArchiveWriter, writeEvents, type NamespaceWriteSummary } from './writer.js';
export { maybeGunzip, startsWithGzipMagic } from './gzip.js';
export { Crc64, crc64, crc64Update } from './crc64.js';
export { buildCollectionMetadata, parseCollectionMetadata, type CollectionMetadata, type IndexSpec } from './metadata.js';
export { ARCHIVE_FORMAT_VERSION, ARCHIVE_MAGIC } from './format.js';
