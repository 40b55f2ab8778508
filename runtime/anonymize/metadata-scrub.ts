/**
 * Collection metadata (the archive prelude, and through it manifest.json)
 * carries values from the data: a partial index on `{Email: "admin@…"}`, an
 * index named after a person, a view that filters on a name, a validator
 * listing allowed values. Anonymized snapshots carry none of them:
 *  - index names become the name MongoDB would generate from the key;
 *  - index key paths and text-index weights lose field names that look like
 *    personal data, exactly as documents lose such keys;
 *  - partial filter values go through the collection's rules (so the filter
 *    still matches the anonymized documents); operators it cannot place are masked;
 *  - validators are dropped (an anonymized copy needs no write validation);
 *  - view pipelines keep their structure, field references and identifier
 *    arguments, while every other string literal is masked.
 */
import { BSON, Binary, Double, Int32, Long, type Document } from 'bson';
import { buildCollectionMetadata, parseCollectionMetadata, type IndexSpec } from '../archive/metadata.js';
import { DECODE_OPTIONS } from './bson-raw.js';
import type { DocumentAnonymizer } from './engine.js';
import { findPiiSpans, looksLikePiiKey } from './pii.js';
import { compileTransform } from './engine.js';
import type { TransformContext, ValueTransform } from './transforms/types.js';
import { hexPrefix, isSubdocument } from './transforms/values.js';

const PIPELINE_IDENTIFIERS = new Set(['from', 'localField', 'foreignField', 'as', 'path', 'includeArrayIndex', 'connectFromField', 'connectToField', 'coll', 'db', 'into', 'on']);
const PASSTHROUGH_OPERATORS = new Set(['$exists', '$type']);
const VALUE_OPERATORS = new Set(['$eq', '$ne', '$gt', '$gte', '$lt', '$lte']);
const LIST_OPERATORS = new Set(['$in', '$nin']);
const LOGICAL_OPERATORS = new Set(['$and', '$or', '$nor']);
const VALIDATION_OPTIONS = ['validator', 'validationLevel', 'validationAction'];

export function scrubCollectionMetadata(metadata: string, anonymizer: DocumentAnonymizer, context: TransformContext, namespace: string): string {
  const parsed = parseCollectionMetadata(metadata, { namespace });
  const mask = compileTransform({ transform: 'mask', params: {} }, context);
  const maskKey = (name: string) => `masked-${hexPrefix(context.mac('mask', name), 16)}`;
  const scrubKey = (name: string) => (looksLikePiiKey(name) ? maskKey(name) : name);
  const scrubPath = (path: string) => scrubDottedPath(path, scrubKey, maskKey);

  const usedNames = new Set<string>();
  const indexes = parsed.indexes.map((index): IndexSpec => {
    const out: Document = {};
    for (const [option, value] of Object.entries(index)) {
      if (option === 'key' || option === 'weights' || option === 'wildcardProjection') out[option] = renameKeys(value as Document, scrubPath);
      else if (option === 'partialFilterExpression') out[option] = scrubFilter(value as Document, anonymizer, mask);
      else out[option] = value;
    }
    // `_id_` is the one name MongoDB requires; every other name is regenerated from the (scrubbed) key.
    if (index.name !== '_id_') out.name = uniqueName(generatedIndexName(out.key as Document), usedNames);
    usedNames.add(out.name as string);
    return out as IndexSpec;
  });

  const options: Document = {};
  for (const [option, value] of Object.entries(parsed.options)) {
    if (VALIDATION_OPTIONS.includes(option)) continue;
    options[option] = option === 'pipeline' ? scrubPipeline(value, mask) : value;
  }
  return buildCollectionMetadata({
    collectionName: parsed.collectionName,
    type: parsed.type,
    options,
    indexes,
    ...(parsed.uuid ? { uuid: parsed.uuid } : {}),
  });
}

/**
 * A dotted index path with personal data in it. An email has dots of its own,
 * so the segments a finding spans are masked together as one key, the way
 * the engine masks such a key in the documents.
 */
function scrubDottedPath(path: string, scrubKey: (name: string) => string, maskKey: (name: string) => string): string {
  const parts = path.split('.');
  const spans = findPiiSpans(path);
  if (spans.length === 0) return parts.map(scrubKey).join('.');
  const out: string[] = [];
  let offset = 0;
  for (let i = 0; i < parts.length; ) {
    const start = offset;
    const span = spans.find((s) => s.start < start + parts[i]!.length && s.end > start);
    if (!span) {
      out.push(scrubKey(parts[i]!));
      offset += parts[i]!.length + 1;
      i++;
      continue;
    }
    let j = i;
    let end = start + parts[i]!.length;
    while (j + 1 < parts.length && end < span.end) {
      j++;
      end += 1 + parts[j]!.length;
    }
    out.push(maskKey(parts.slice(i, j + 1).join('.')));
    offset = end + 1;
    i = j + 1;
  }
  return out.join('.');
}

function renameKeys(doc: Document, rename: (name: string) => string): Document {
  const out: Document = {};
  for (const [name, value] of Object.entries(doc)) out[rename(name)] = value;
  return out;
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
function scrubFilter(filter: Document, anonymizer: DocumentAnonymizer, mask: ValueTransform): Document {
  const out: Document = {};
  for (const [field, condition] of Object.entries(filter)) {
    if (LOGICAL_OPERATORS.has(field) && Array.isArray(condition)) {
      out[field] = condition.map((clause) => (isSubdocument(clause) ? scrubFilter(clause, anonymizer, mask) : mask(clause)));
    } else if (field.startsWith('$')) {
      out[field] = mask(condition);
    } else if (isSubdocument(condition) && Object.keys(condition).some((k) => k.startsWith('$'))) {
      const ops: Document = {};
      for (const [op, operand] of Object.entries(condition)) {
        if (PASSTHROUGH_OPERATORS.has(op)) ops[op] = operand;
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

/** What the collection's rules make of `value` stored at the dotted `path`. */
function throughRules(path: string, value: unknown, anonymizer: DocumentAnonymizer): unknown {
  const names = path.split('.');
  let doc: Document = { [names[names.length - 1]!]: value };
  for (let i = names.length - 2; i >= 0; i--) doc = { [names[i]!]: doc };
  const bytes = Buffer.from(BSON.serialize(doc));
  let out: unknown = BSON.deserialize(anonymizer.anonymize(bytes), DECODE_OPTIONS);
  for (const name of names) out = isSubdocument(out) ? out[name] : undefined;
  return out === undefined ? null : out;
}

/** Structure, `$field` references and identifier arguments kept; every other string masked. */
function scrubPipeline(value: unknown, mask: ValueTransform, parentKey = ''): unknown {
  if (typeof value === 'string') return value.startsWith('$') || PIPELINE_IDENTIFIERS.has(parentKey) ? value : mask(value);
  if (Array.isArray(value)) return value.map((item) => scrubPipeline(item, mask, parentKey));
  if (isSubdocument(value)) {
    const out: Document = {};
    for (const [key, item] of Object.entries(value)) out[key] = scrubPipeline(item, mask, key);
    return out;
  }
  if (value instanceof Binary || value instanceof Date) return mask(value);
  return value;
}
