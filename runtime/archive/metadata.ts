/**
 * The per-collection `metadata` string of the prelude: what mongodump also
 * writes to `<collection>.metadata.json`, i.e. options, index specs, UUID,
 * name and type as canonical Extended JSON v2. mongorestore creates the
 * collection and its indexes from it.
 *
 * mongodump's field order is options, indexes, uuid, collectionName, type;
 * options, uuid and type are left out when empty.
 */
import { EJSON, type Document } from 'bson';
import { ArchiveFormatError } from './errors.js';

/** An index as `listIndexes` returns it: key, name, and any options (unique, sparse, partialFilterExpression, v, ...). */
export interface IndexSpec extends Document {
  key: Document;
  name: string;
}

export interface CollectionMetadata {
  collectionName: string;
  /** 'collection', 'view' or 'timeseries' as `listCollections` reports it; '' when absent. */
  type: string;
  options: Document;
  indexes: IndexSpec[];
  /** The collection UUID as 32 lowercase hex digits, when known. */
  uuid?: string;
}

export interface CollectionMetadataInput {
  collectionName: string;
  type?: string;
  options?: Document;
  indexes: readonly Document[];
  uuid?: string;
}

/**
 * Builds the metadata string. Values keep their BSON types when given as
 * bson classes (Int32, Double, Long, ...); plain JS integers become int32
 * (or int64/double when out of range), as the driver would store them.
 */
export function buildCollectionMetadata(input: CollectionMetadataInput): string {
  const doc: Document = {};
  if (input.options !== undefined && Object.keys(input.options).length > 0) doc.options = input.options;
  doc.indexes = input.indexes;
  if (input.uuid !== undefined && input.uuid !== '') doc.uuid = input.uuid;
  doc.collectionName = input.collectionName;
  if (input.type !== undefined && input.type !== '') doc.type = input.type;
  return EJSON.stringify(doc, { relaxed: false });
}

/**
 * Parses a metadata string. Numbers come back as bson classes (Int32, Double,
 * Long) so that re-building the string reproduces it exactly and index
 * specs keep their numeric types when recreated.
 */
export function parseCollectionMetadata(json: string, context: { namespace?: string } = {}): CollectionMetadata {
  const fail = (problem: string, cause?: unknown) =>
    new ArchiveFormatError(`collection metadata ${problem}`, { namespace: context.namespace, cause });
  let parsed: unknown;
  try {
    parsed = EJSON.parse(json, { relaxed: false });
  } catch (error) {
    // Not the library's message: it quotes the offending value, which can be data.
    throw fail('is not valid Extended JSON', error);
  }
  if (!isPlainDocument(parsed)) throw fail('is not a JSON object');
  const { options = {}, indexes = [], uuid, collectionName = '', type = '' } = parsed;
  if (!isPlainDocument(options)) throw fail('field "options" is not an object');
  if (!Array.isArray(indexes)) throw fail('field "indexes" is not an array');
  indexes.forEach((index: unknown, i) => {
    if (!isPlainDocument(index) || !isPlainDocument(index.key) || typeof index.name !== 'string') {
      throw fail(`index #${i} lacks a "key" object or a "name" string`);
    }
  });
  if (typeof collectionName !== 'string') throw fail('field "collectionName" is not a string');
  if (typeof type !== 'string') throw fail('field "type" is not a string');
  if (uuid !== undefined && typeof uuid !== 'string') throw fail('field "uuid" is not a string');
  return {
    collectionName,
    type,
    options,
    indexes: indexes as IndexSpec[],
    ...(uuid !== undefined && uuid !== '' ? { uuid } : {}),
  };
}

function isPlainDocument(value: unknown): value is Document {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !('_bsontype' in value);
}
