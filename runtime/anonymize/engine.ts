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
  const encoded = BSON.serialize(doc, { ignoreUndefined: true });
  // Already a Buffer under Node (typed as Uint8Array): view it rather than copy it.
  return Buffer.isBuffer(encoded) ? encoded : Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength);
}

/**
 * Decodes only the named top-level fields of a document, as `BSON.deserialize`
 * would decode them: the size-limit passes need the `_id` and a reference
 * or two, and decoding whole documents (abstracts, annotation arrays) twice
 * per spooled document made most of their time and garbage. Falls back to
 * decoding everything when the top level does not parse.
 */
export function decodeFields(bytes: Buffer, names: readonly Buffer[]): Document {
  const end = bytes.length - 1;
  if (bytes.length < 5 || bytes.readInt32LE(0) !== bytes.length || bytes[end] !== 0) return BSON.deserialize(bytes, DECODE_OPTIONS);
  const picked: Buffer[] = [];
  let pickedBytes = 0;
  for (let pos = 4; pos < end; ) {
    const nameStart = pos + 1;
    const nameEnd = bytes.indexOf(0, nameStart);
    const size = nameEnd < 0 ? -1 : valueSize(bytes, bytes[pos]!, nameEnd + 1);
    const next = nameEnd + 1 + size;
    if (size < 0 || next > end) return BSON.deserialize(bytes, DECODE_OPTIONS);
    const length = nameEnd - nameStart;
    if (names.some((name) => name.length === length && bytes.compare(name, 0, length, nameStart, nameEnd) === 0)) {
      picked.push(bytes.subarray(pos, next));
      pickedBytes += next - pos;
    }
    pos = next;
  }
  const document = Buffer.alloc(4 + pickedBytes + 1);
  document.writeInt32LE(document.length, 0);
  let at = 4;
  for (const element of picked) at += element.copy(document, at);
  return BSON.deserialize(document, DECODE_OPTIONS);
}

/** Bytes of an element's value at `at`, or -1 for a type or length this scan does not trust. */
function valueSize(bytes: Buffer, type: number, at: number): number {
  const fixed = FIXED_VALUE_SIZES[type];
  if (fixed !== undefined) return fixed;
  if (type === 0x0b) {
    // regular expression: two C strings
    const pattern = bytes.indexOf(0, at);
    const flags = pattern < 0 ? -1 : bytes.indexOf(0, pattern + 1);
    return flags < 0 ? -1 : flags + 1 - at;
  }
  if (at + 4 > bytes.length) return -1;
  const length = bytes.readInt32LE(at);
  switch (type) {
    case 0x02: // string
    case 0x0d: // JavaScript code
    case 0x0e: // symbol
      return length > 0 ? 4 + length : -1;
    case 0x03: // document
    case 0x04: // array
    case 0x0f: // code with scope
      return length >= 5 ? length : -1;
    case 0x05: // binary: length, subtype, bytes
      return length >= 0 ? 5 + length : -1;
    case 0x0c: // DBPointer: string, then an ObjectId
      return length > 0 ? 4 + length + 12 : -1;
    default:
      return -1;
  }
}

const FIXED_VALUE_SIZES: Record<number, number> = {
  0x01: 8, // double
  0x06: 0, // undefined
  0x07: 12, // ObjectId
  0x08: 1, // boolean
  0x09: 8, // UTC datetime
  0x0a: 0, // null
  0x10: 4, // int32
  0x11: 8, // timestamp
  0x12: 8, // int64
  0x13: 16, // decimal128
  0xff: 0, // MinKey
  0x7f: 0, // MaxKey
};
