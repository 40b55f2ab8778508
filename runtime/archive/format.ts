/** Fixed numbers of the mongodump archive format (mongo-tools `common/archive/spec.md`). */

/** First four bytes of every archive: 0x8199e26d, little-endian on the wire. */
export const ARCHIVE_MAGIC = 0x8199e26d;

/** Ends the prelude and every block: 0xFFFFFFFF, which can never be a BSON length. */
export const TERMINATOR = 0xffffffff;

/** The only archive format version mongodump has written. */
export const ARCHIVE_FORMAT_VERSION = '0.1';

/** Smallest BSON document: int32 length + trailing 0x00. */
export const MIN_BSON_SIZE = 5;

/** mongo-tools refuses larger documents (its `db.MaxBSONSize`), so we do too. */
export const MAX_BSON_SIZE = 16 * 1024 * 1024;

export function namespaceOf(db: string, collection: string): string {
  return `${db}.${collection}`;
}

/** The bytes of the magic number as they appear in the stream. */
export function magicBytes(): Buffer {
  const bytes = Buffer.allocUnsafe(4);
  bytes.writeUInt32LE(ARCHIVE_MAGIC, 0);
  return bytes;
}

export function terminatorBytes(): Buffer {
  return Buffer.from([0xff, 0xff, 0xff, 0xff]);
}
