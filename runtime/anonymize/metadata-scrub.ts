/**
 * Collection metadata (the archive prelude, and through it manifest.json)
 * carries values from the data: a partial index on `{Email: "admin@…"}`, an
 * index named after a person, a view that filters on a name, a validator
 * listing allowed values. Anonymized snapshots carry none of them:
 *  - index names become the name MongoDB would generate from the key;
 *  - an index whose key, weights or partial filter name a path the rules do
 *    not name is left out; only known options of the expected type are copied;
 *  - partial filter values go through the collection's rules (so the filter
 *    still matches the anonymized documents); operators it cannot place are masked;
 *  - validators, storage engine options, comments... are dropped: collection
 *    options come from a short allow-list (capped, size, max, collation
 *    locale, time-series fields the rules name);
 *  - view pipelines are rebuilt from an allow-list (view-scrub.ts): no
 *    literal of the original survives.
 */
import { BSON, Double, Int32, Long, type Document } from 'bson';
import { buildCollectionMetadata, parseCollectionMetadata, type IndexSpec } from '../archive/metadata.js';
import { DECODE_OPTIONS } from './bson-raw.js';
import type { DocumentAnonymizer } from './engine.js';
import { compileTransform } from './engine.js';
import type { TransformContext, ValueTransform } from './transforms/types.js';
import { hexPrefix, isSubdocument } from './transforms/values.js';
import { scrubViewPipeline } from './view-scrub.js';
import type { MetadataScrubOptions } from './metadata-scope.js';

const BSON_TYPE_NAMES = new Set(['double', 'string', 'object', 'array', 'binData', 'objectId', 'bool', 'date', 'null', 'regex', 'int', 'timestamp', 'long', 'decimal', 'number', 'minKey', 'maxKey']);
const VALUE_OPERATORS = new Set(['$eq', '$ne', '$gt', '$gte', '$lt', '$lte']);
const LIST_OPERATORS = new Set(['$in', '$nin']);
const LOGICAL_OPERATORS = new Set(['$and', '$or', '$nor']);
const METADATA_TYPES = new Set(['', 'collection', 'view', 'timeseries']);
const FILTER_OPERATORS = new Set([...VALUE_OPERATORS, ...LIST_OPERATORS, '$exists', '$type']);

/** Locales a collation may name: a fixed list, so a locale string can carry nothing else. */
const LOCALES = new Set(['simple', 'ar', 'cs', 'da', 'de', 'el', 'en', 'en_US', 'en_GB', 'es', 'fi', 'fr', 'he', 'hu', 'it', 'ja', 'ko', 'nb', 'nl', 'pl', 'pt', 'ro', 'ru', 'sv', 'tr', 'uk', 'zh']);
const TEXT_LANGUAGES = new Set(['none', 'danish', 'dutch', 'english', 'finnish', 'french', 'german', 'hungarian', 'italian', 'norwegian', 'portuguese', 'romanian', 'russian', 'spanish', 'swedish', 'turkish']);
const INDEX_KINDS = new Set(['2dsphere', '2d', 'text', 'hashed']);
const BOOLEAN_INDEX_OPTIONS = ['unique', 'sparse', 'background', 'hidden'];
const NUMBER_INDEX_OPTIONS = ['expireAfterSeconds', '2dsphereIndexVersion', 'textIndexVersion', 'bits', 'min', 'max'];

/**
 * An allow-list over collection metadata: only option keys known to be
 * safe, with values of the expected type, are copied; an index on a path the
 * rules do not name is left out; the uuid is regenerated with a keyed value.
 */
export function scrubCollectionMetadata(metadata: string, anonymizer: DocumentAnonymizer, context: TransformContext, namespace: string, scrub: MetadataScrubOptions): string {
  const parsed = parseCollectionMetadata(metadata, { namespace });
  const mask = compileTransform({ transform: 'mask', params: {} }, context);
  const named = (path: string) => path === '_id' || scrub.isNamedPath(path);
  const transformed = scrub.isTransformedPath ?? (() => false);
  const throughRules = (path: string, value: unknown, anonymizer: DocumentAnonymizer) =>
    (transformed(anonymizer.collection, path) ? transformedValue(path, value, anonymizer) : undefined) ?? mask(value);

  const usedNames = new Set<string>();
  let dropped = 0;
  const indexes: IndexSpec[] = [];
  for (const index of parsed.indexes) {
    const out = safeIndex(index, named, anonymizer, mask, throughRules);
    if (!out) {
      dropped++;
      continue;
    }
    // `_id_` is the one name MongoDB requires; every other name is regenerated from the key.
    out.name = index.name === '_id_' ? '_id_' : uniqueName(generatedIndexName(out.key as Document), usedNames);
    usedNames.add(out.name as string);
    indexes.push(out as IndexSpec);
  }
  if (dropped > 0) scrub.onDroppedIndexes?.(dropped);

  const options: Document = {};
  const given = parsed.options as Document;
  if (typeof given.capped === 'boolean') options.capped = given.capped;
  for (const option of ['size', 'max']) if (isNumber(given[option])) options[option] = given[option];
  const collation = safeCollation(given.collation);
  if (collation) options.collation = collation;
  const timeseries = safeTimeseries(given.timeseries, named);
  if (timeseries) options.timeseries = timeseries;
  if (parsed.type === 'view' && typeof given.viewOn === 'string') {
    // Reached only for a view the rules name; its pipeline is rebuilt so that no literal survives.
    const view = scrub.view ?? { isNamedSegment: (name: string) => name === '_id', isNamedCollection: () => false, anonymizerFor: () => null };
    const scope = { ...view, throughRules, mask, context };
    options.viewOn = view.isNamedCollection(given.viewOn) ? given.viewOn : `f${hexPrefix(context.mac('view:name', given.viewOn), 16)}`;
    options.pipeline = scrubViewPipeline(given.pipeline ?? [], given.viewOn, scope);
  }
  const collection = namespace.slice(namespace.indexOf('.') + 1);
  return buildCollectionMetadata({
    collectionName: collection,
    // A type this list does not know is text from the input; the engine treated the entry as a collection.
    type: METADATA_TYPES.has(parsed.type) ? parsed.type : 'collection',
    options,
    indexes,
    ...(parsed.uuid ? { uuid: hexPrefix(context.mac('metadata:uuid', namespace), 32) } : {}),
  });
}

function isNumber(value: unknown): boolean {
  return typeof value === 'number' || value instanceof Int32 || value instanceof Double || value instanceof Long;
}

type ThroughRules = (path: string, value: unknown, anonymizer: DocumentAnonymizer) => unknown;

function safeIndex(index: IndexSpec, named: (path: string) => boolean, anonymizer: DocumentAnonymizer, mask: ValueTransform, throughRules: ThroughRules): Document | null {
  const given = index as unknown as Document;
  const key = given.key;
  if (!isSubdocument(key) || Object.keys(key).length === 0) return null;
  const out: Document = {};
  const isText = Object.values(key).includes('text') || '_fts' in key;
  for (const [path, direction] of Object.entries(key)) {
    if (path === '_fts' || path === '_ftsx') {
      if (!isText) return null;
    } else if (!named(path)) return null;
    if (!(isNumber(direction) || (typeof direction === 'string' && INDEX_KINDS.has(direction)))) return null;
  }
  out.key = key;
  if (isNumber(given.v)) out.v = given.v;
  for (const option of BOOLEAN_INDEX_OPTIONS) if (typeof given[option] === 'boolean') out[option] = given[option];
  for (const option of NUMBER_INDEX_OPTIONS) if (isNumber(given[option])) out[option] = given[option];
  if (isText) {
    const weights = given.weights;
    if (!isSubdocument(weights) || !Object.entries(weights).every(([path, weight]) => named(path) && isNumber(weight))) return null;
    out.weights = weights;
    if (typeof given.default_language === 'string' && TEXT_LANGUAGES.has(given.default_language)) out.default_language = given.default_language;
  }
  const collation = safeCollation(given.collation);
  if (collation) out.collation = collation;
  if (given.partialFilterExpression !== undefined) {
    if (!isSubdocument(given.partialFilterExpression) || !filterPathsNamed(given.partialFilterExpression, named)) return null;
    out.partialFilterExpression = scrubFilter(given.partialFilterExpression, anonymizer, mask, throughRules);
  }
  return out;
}

function safeCollation(value: unknown): Document | null {
  return isSubdocument(value) && typeof value.locale === 'string' && LOCALES.has(value.locale) ? { locale: value.locale } : null;
}

function safeTimeseries(value: unknown, named: (path: string) => boolean): Document | null {
  if (!isSubdocument(value) || typeof value.timeField !== 'string' || !named(value.timeField)) return null;
  const out: Document = { timeField: value.timeField };
  if (value.metaField !== undefined) {
    if (typeof value.metaField !== 'string' || !named(value.metaField)) return null;
    out.metaField = value.metaField;
  }
  if (typeof value.granularity === 'string' && ['seconds', 'minutes', 'hours'].includes(value.granularity)) out.granularity = value.granularity;
  for (const option of ['bucketMaxSpanSeconds', 'bucketRoundingSeconds']) if (isNumber(value[option])) out[option] = value[option];
  return out;
}

/**
 * Every field a partial filter names (through $and/$or/$nor) is a path the
 * rules name, and every operator is one whose operand scrubFilter places
 * (MongoDB allows no others in a partial filter): anything else leaves the
 * index out, so no operator key or operand is copied unexamined.
 */
function filterPathsNamed(filter: Document, named: (path: string) => boolean): boolean {
  return Object.entries(filter).every(([field, condition]) => {
    if (LOGICAL_OPERATORS.has(field)) return Array.isArray(condition) && condition.every((clause) => isSubdocument(clause) && filterPathsNamed(clause, named));
    if (field.startsWith('$')) return false;
    if (!named(field)) return false;
    if (isSubdocument(condition) && Object.keys(condition).some((k) => k.startsWith('$'))) return Object.keys(condition).every((op) => FILTER_OPERATORS.has(op));
    return true;
  });
}

/** MongoDB's default index name: field_direction pairs joined by underscores. */
export function generatedIndexName(key: Document): string {
  return Object.entries(key)
    .map(([field, direction]) => `${field}_${directionText(direction)}`)
    .join('_');
}

function directionText(direction: unknown): string {
  if (direction instanceof Int32 || direction instanceof Double) return String(direction.value);
  if (direction instanceof Long) return direction.toString();
  return String(direction);
}

function uniqueName(name: string, used: Set<string>): string {
  if (!used.has(name)) return name;
  for (let n = 2; ; n++) if (!used.has(`${name}_${n}`)) return `${name}_${n}`;
}

/** A query filter whose values went through the collection's rules, path by path. */
function scrubFilter(filter: Document, anonymizer: DocumentAnonymizer, mask: ValueTransform, throughRules: ThroughRules): Document {
  const out: Document = {};
  for (const [field, condition] of Object.entries(filter)) {
    if (LOGICAL_OPERATORS.has(field) && Array.isArray(condition)) {
      out[field] = condition.map((clause) => (isSubdocument(clause) ? scrubFilter(clause, anonymizer, mask, throughRules) : mask(clause)));
    } else if (field.startsWith('$')) {
      out[field] = mask(condition);
    } else if (isSubdocument(condition) && Object.keys(condition).some((k) => k.startsWith('$'))) {
      const ops: Document = {};
      for (const [op, operand] of Object.entries(condition)) {
        if (op === '$exists' && (typeof operand === 'boolean' || isNumber(operand))) ops[op] = operand;
        else if (op === '$type' && (isNumber(operand) || (typeof operand === 'string' && BSON_TYPE_NAMES.has(operand)))) ops[op] = operand;
        else if (op === '$exists' || op === '$type') ops[op] = true;
        else if (VALUE_OPERATORS.has(op)) ops[op] = throughRules(field, operand, anonymizer);
        else if (LIST_OPERATORS.has(op) && Array.isArray(operand)) ops[op] = operand.map((item) => throughRules(field, item, anonymizer));
        else ops[op] = mask(operand);
      }
      out[field] = ops;
    } else {
      out[field] = throughRules(field, condition, anonymizer);
    }
  }
  return out;
}

/**
 * What the collection's rules make of `value` stored at the dotted `path`,
 * for a path the rules transform (whole values: no leaf of it is kept).
 * The byte comparison is a second guard: an unchanged value is masked.
 */
function transformedValue(path: string, value: unknown, anonymizer: DocumentAnonymizer): unknown {
  const names = path.split('.');
  let doc: Document = { [names[names.length - 1]!]: value };
  for (let i = names.length - 2; i >= 0; i--) doc = { [names[i]!]: doc };
  const bytes = Buffer.from(BSON.serialize(doc));
  const anonymized = anonymizer.anonymize(bytes);
  if (anonymized.equals(bytes)) return undefined;
  let out: unknown = BSON.deserialize(anonymized, DECODE_OPTIONS);
  for (const name of names) out = isSubdocument(out) ? out[name] : undefined;
  return out === undefined ? null : out;
}
