/**
 * Applies a collection's rules to one decoded document. Rules are compiled
 * into a tree keyed by field name; the walk visits only the parts of a
 * document that some rule or the collection's default touches.
 */
import { BSON, type Document } from 'bson';
import { createTransformContext } from './key.js';
import type { CollectionRules, FieldRule, Rules, TransformSpec } from './rules.js';
import { findTransform } from './transforms/registry.js';
import { REMOVE, type TransformContext, type TransformResult, type ValueTransform } from './transforms/types.js';
import { isSubdocument } from './transforms/values.js';

/** Decoding keeps every BSON type (Int32 stays Int32, UUIDs stay Binary), so unchanged values re-encode byte for byte. */
export const DECODE_OPTIONS = {
  promoteValues: false,
  promoteLongs: false,
  promoteBuffers: false,
  bsonRegExp: true,
  // Invalid UTF-8 must not abort a run; it is decoded with replacement characters and transformed like any text.
  validation: { utf8: false },
} as const;

export interface DocumentAnonymizer {
  readonly collection: string;
  /** Transforms `doc` in place; true when anything changed. */
  apply(doc: Document): boolean;
}

export interface Anonymizer {
  /** null when the collection has no rules: its documents pass through untouched. */
  forCollection(collection: string): DocumentAnonymizer | null;
}

interface Node {
  /** `elementwise`: the path ends in `[]`, so the transform applies to each element rather than to the array. */
  rule: { spec: FieldRule; fn: ValueTransform; elementwise: boolean } | null;
  children: Map<string, Node>;
}

interface Walk {
  changed: boolean;
}

export function createAnonymizer(rules: Rules, key: Buffer): Anonymizer {
  const context = createTransformContext(key);
  const compiled = new Map<string, DocumentAnonymizer | null>();
  return {
    forCollection(collection) {
      if (!compiled.has(collection)) {
        const entry = rules.collections.get(collection);
        compiled.set(collection, entry ? compileCollection(entry, context) : null);
      }
      return compiled.get(collection) ?? null;
    },
  };
}

export function compileTransform(spec: TransformSpec, context: TransformContext): ValueTransform {
  const definition = findTransform(spec.transform);
  if (!definition) throw new Error(`unknown transform "${spec.transform}" (the rules were not validated)`);
  return definition.create(definition.params.parse(spec.params), context);
}

function compileCollection(entry: CollectionRules, context: TransformContext): DocumentAnonymizer | null {
  const defaultFn = entry.default && !entry.default.keepsValue ? compileTransform(entry.default, context) : null;
  const root: Node = { rule: null, children: new Map() };
  for (const field of entry.fields) {
    let node = root;
    for (const segment of field.segments) {
      let child = node.children.get(segment.name);
      if (!child) {
        child = { rule: null, children: new Map() };
        node.children.set(segment.name, child);
      }
      node = child;
    }
    const last = field.segments[field.segments.length - 1];
    node.rule = { spec: field, fn: compileTransform(field, context), elementwise: (last?.arrayDepth ?? 0) > 0 };
  }
  if (root.children.size === 0 && !defaultFn) return null;
  return {
    collection: entry.collection,
    apply(doc) {
      const walk: Walk = { changed: false };
      applyToDocument(doc, root, defaultFn, walk);
      return walk.changed;
    },
  };
}

function applyToDocument(doc: Record<string, unknown>, node: Node, defaultFn: ValueTransform | null, walk: Walk): void {
  for (const name of Object.keys(doc)) {
    const value = doc[name];
    const child = node.children.get(name);
    let result: TransformResult;
    if (child) {
      result = applyToValue(value, child, defaultFn, walk);
    } else if (defaultFn && name !== '_id' && value !== null && value !== undefined) {
      // `_id`s are opaque keys other documents refer to; a default never touches them.
      result = defaultFn(value);
      if (result !== value) walk.changed = true;
    } else {
      continue;
    }
    if (result === REMOVE) {
      delete doc[name];
      walk.changed = true;
    } else if (result !== value) {
      doc[name] = result;
    }
  }
}

function applyToValue(value: unknown, node: Node, defaultFn: ValueTransform | null, walk: Walk): TransformResult {
  if (value === null || value === undefined) return value;
  const rule = node.rule;
  if (rule?.elementwise && Array.isArray(value)) return mapArray(value, (item) => applyToValue(item, node, defaultFn, walk), walk);
  if (rule && !(rule.spec.keepsValue && node.children.size > 0)) {
    const result = rule.fn(value);
    if (result !== value) walk.changed = true;
    return result;
  }
  // Below a `keep` only the rules named under it apply; otherwise the default continues down.
  const inherited = rule ? null : defaultFn;
  if (Array.isArray(value)) return mapArray(value, (item) => applyToValue(item, node, inherited, walk), walk);
  if (isSubdocument(value)) {
    applyToDocument(value, node, inherited, walk);
    return value;
  }
  // A scalar where the rules expect a subdocument (e.g. Contact is "a@b.c" but the rule names
  // Contact.Email): it may well hold what the rule meant to hide, so the rule beneath applies to it.
  const fallback = firstTransformingRule(node);
  if (!fallback) return value;
  const result = fallback(value);
  if (result !== value) walk.changed = true;
  return result;
}

/** Maps elements, dropping REMOVEd ones; the same array when nothing changed. */
function mapArray(value: unknown[], map: (item: unknown) => TransformResult, walk: Walk): unknown[] {
  const out: unknown[] = [];
  for (const item of value) {
    const result = map(item);
    if (result === REMOVE) walk.changed = true;
    else out.push(result);
  }
  return out.length === value.length && out.every((item, i) => item === value[i]) ? value : out;
}

function firstTransformingRule(node: Node): ValueTransform | null {
  if (node.rule && !node.rule.spec.keepsValue) return node.rule.fn;
  for (const child of node.children.values()) {
    const found = firstTransformingRule(child);
    if (found) return found;
  }
  return null;
}

/** Thrown when a document in a collection that must be transformed cannot be decoded. */
export class UndecodableDocumentError extends Error {}

/** Decodes, transforms and re-encodes one document; unchanged documents come back as the same Buffer. */
export function anonymizeBytes(bytes: Buffer, anonymizer: DocumentAnonymizer): Buffer {
  let doc: Document;
  try {
    doc = BSON.deserialize(bytes, DECODE_OPTIONS);
  } catch (error) {
    throw new UndecodableDocumentError((error as Error).message, { cause: error });
  }
  if (!anonymizer.apply(doc)) return bytes;
  return Buffer.from(BSON.serialize(doc, { ignoreUndefined: true }));
}
