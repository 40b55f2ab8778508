/**
 * The allow-list engine: applies a collection's rules to one raw BSON
 * document. Every leaf is either transformed by a rule, kept because a rule
 * keeps exactly its path (or a `keep_subtree` covers it), or given the
 * default (the collection's `default`, else the file's `unnamed_fields`:
 * mask, or refuse the run). Nothing passes because no rule mentioned it.
 *
 * The walk reads the document's bytes in place and rewrites only the
 * elements that change: a document no rule changes comes back as the very
 * same Buffer, and a changed one keeps every other byte, key order (numeric
 * keys included) and value (dates outside JavaScript's range, -0.0,
 * Decimal128, Code, Symbol...) exactly.
 *
 * Duplicate keys: a document holding a key twice is rewritten with the last
 * occurrence only (what drivers that decode into maps see); the earlier
 * values are dropped, and the one kept goes through the rules like any
 * other, so no byte of either survives untransformed.
 */
import { Buffer, isUtf8 } from 'node:buffer';
import { BSON, type Document } from 'bson';
import { T, UndecodableDocumentError, decodeValue, elementHeader, encodeString, encodeValue, isIndexName, valueSize, type EncodedValue } from './bson-raw.js';
import { decodeName } from './bson-raw.js';
import { createTransformContext } from './key.js';
import { NameRedactor } from './name-redactor.js';
import { looksLikePiiKey } from './pii.js';
import { BUCKETS_PREFIX, type CollectionRules, type FieldRule, type Rules, type TransformSpec } from './rules.js';
import { scrubText } from './scrub.js';
import { maskScalar, registerJsMasker, type IdPosition } from './transforms/mask.js';
import { findTransform } from './transforms/registry.js';
import { REMOVE, type TransformContext, type ValueTransform } from './transforms/types.js';
import { hexPrefix, mapTextLeaves } from './transforms/values.js';

export { DECODE_OPTIONS, UndecodableDocumentError } from './bson-raw.js';
import { DECODE_OPTIONS } from './bson-raw.js';

export interface DocumentAnonymizer {
  readonly collection: string;
  /** The anonymized document: the same Buffer when nothing changed. */
  anonymize(bytes: Buffer): Buffer;
  /** Transforms a decoded document in place (through its bytes); true when anything changed. */
  apply(doc: Document): boolean;
}

export interface Anonymizer {
  /**
   * The rules of a collection named under `rules` or `size_limits`; null for
   * a collection the rules do not name (the caller refuses or drops it).
   */
  forCollection(collection: string): DocumentAnonymizer | null;
}

/**
 * A leaf no rule names, under `unnamed_fields: refuse`. `segments` is the
 * path as it may be printed: a name no rule contains is already replaced by
 * `<unnamed key #n>` (coverage.NameRedactor), since a key can be data.
 */
export class UnnamedFieldError extends Error {
  constructor(readonly segments: string[]) {
    super('a field no rule names');
  }
  get path(): string {
    return this.segments.join('.').replace(/\.\[\]/g, '[]');
  }
}

type RuleKind = 'keep' | 'keep_subtree' | 'mask' | 'leaves' | 'whole' | 'refuse';

interface CompiledRule {
  kind: RuleKind;
  fn: ValueTransform | null;
  /** The path ends in `[]`: a whole-value transform applies to each element rather than to the array. */
  elementwise: boolean;
  scrub: boolean;
  hashKeys: boolean;
}

interface RuleNode {
  children: Map<string, RuleNode> | null;
  rule: CompiledRule | null;
  /** For a scalar found where rules name fields below: the first transforming rule beneath. */
  fallback: CompiledRule | null;
  /**
   * Time-series bucket column (`data.<f>`): the value is a document of one
   * value per measurement, keyed by row index; each value is a value at the
   * logical node given here (null: a field no rule names).
   */
  columnOf?: RuleNode | null;
  /** For a child no rule names (the columns of a bucket's `data`). */
  anyChild?: RuleNode;
}

const MAX_DEPTH = 200;
const REMOVED = Symbol('removed');
type ValueOut = EncodedValue | null | typeof REMOVED;

export function createAnonymizer(rules: Rules, key: Buffer): Anonymizer {
  const context = createTransformContext(key);
  const compiled = new Map<string, DocumentAnonymizer | null>();
  const names = new NameRedactor(rules);
  return {
    forCollection(collection) {
      let anonymizer = compiled.get(collection);
      if (anonymizer === undefined) {
        const direct = rules.collections.get(collection);
        const owner = !direct && collection.startsWith(BUCKETS_PREFIX) ? rules.collections.get(collection.slice(BUCKETS_PREFIX.length)) : undefined;
        const entry = direct ?? (owner ? { ...owner, collection } : null) ?? (rules.sizeLimits.has(collection) ? emptyEntry(collection) : null);
        anonymizer = entry ? compileCollection(entry, rules, context, names, owner !== undefined) : null;
        compiled.set(collection, anonymizer);
      }
      return anonymizer;
    },
  };
}

/**
 * A time-series collection X is stored as buckets, and X's rules (written for
 * X's documents) are applied at the places a bucket holds X's values:
 *  - `data.<f>` is a column: one value of f per measurement, keyed by row
 *    index. Each value is transformed as a value of f (a whole-value
 *    transform replaces each value, not the column; `keep f` keeps each
 *    value, and its children are matched like f's); row keys stay, unless
 *    they are not row numbers.
 *  - `control.min.<f>` / `control.max.<f>` hold a value of f each (the
 *    original minimum and maximum): f's rules apply to them like to data.
 *  - `meta.<f>`: f's rules (the bucket's meta field value).
 *  - the bucket's `_id` (an ObjectId holding the bucket's start time),
 *    `control.version` and `control.count` are the bucket format: kept.
 * Everything else gets the default, like any unnamed field.
 */
function bucketTree(logical: RuleNode, keep: CompiledRule): RuleNode {
  const leaf = (rule: CompiledRule | null): RuleNode => ({ children: null, rule, fallback: null });
  const columns = new Map<string, RuleNode>();
  for (const [name, node] of logical.children ?? []) columns.set(name, { ...leaf(null), columnOf: node });
  const tree = (children: [string, RuleNode][]): RuleNode => ({ children: new Map(children), rule: null, fallback: null });
  return tree([
    ['_id', leaf(keep)],
    ['control', tree([['min', logical], ['max', logical], ['version', leaf(keep)], ['count', leaf(keep)]])],
    ['meta', logical],
    ['data', { children: columns, rule: null, fallback: null, anyChild: { ...leaf(null), columnOf: null } }],
  ]);
}

/** A bucket path as a path of the time-series collection's documents (what decideLeaf matches), or a decision of its own. */
export function bucketLogicalNames(names: readonly string[]): readonly string[] | 'keep' | null {
  const [first, second, ...rest] = names;
  if (first === '_id') return names.length === 1 ? 'keep' : null;
  if (first === 'control') {
    if (second === 'version' || second === 'count') return rest.length === 0 ? 'keep' : null;
    return (second === 'min' || second === 'max') && rest.length > 0 ? rest : null;
  }
  if (first === 'meta') return names.length > 1 ? names.slice(1) : null;
  // data.<f>.<row>...: the row index is not a field name; data.<f> alone (a compressed column) gets the default.
  if (first === 'data' && second !== undefined && rest.length > 0) return [second, ...rest.slice(1)];
  return null;
}

function emptyEntry(collection: string): CollectionRules {
  return { collection, fields: [], default: null, privacyByDefault: false };
}

export function compileTransform(spec: Pick<TransformSpec, 'transform' | 'params'>, context: TransformContext): ValueTransform {
  const definition = findTransform(spec.transform);
  if (!definition) throw new Error(`unknown transform "${spec.transform}" (the rules were not validated)`);
  return definition.create(definition.params.parse(spec.params), context);
}

function compileRule(spec: TransformSpec, elementwise: boolean, context: TransformContext): CompiledRule {
  const definition = findTransform(spec.transform);
  if (!definition) throw new Error(`unknown transform "${spec.transform}" (the rules were not validated)`);
  const kind: RuleKind = definition.keepsSubtree
    ? 'keep_subtree'
    : definition.keepsValue
      ? 'keep'
      : definition.name === 'mask'
        ? 'mask'
        : definition.wholeValue
          ? 'whole'
          : 'leaves';
  const fn = kind === 'leaves' || kind === 'whole' ? compileTransform(spec, context) : null;
  return { kind, fn, elementwise, scrub: spec.scrub, hashKeys: spec.keys === 'hash' };
}

const REFUSE: CompiledRule = { kind: 'refuse', fn: null, elementwise: false, scrub: false, hashKeys: false };
const MASK_SPEC: TransformSpec = { transform: 'mask', params: {}, keepsValue: false, keepsSubtree: false, scrub: false, keys: null, line: 0 };
const KEEP_SPEC: TransformSpec = { transform: 'keep', params: {}, keepsValue: true, keepsSubtree: false, scrub: false, keys: null, line: 0 };

function compileCollection(entry: CollectionRules, rules: Rules, context: TransformContext, names: NameRedactor, buckets = false): DocumentAnonymizer {
  const defaultRule = entry.default ? compileRule(entry.default, false, context) : rules.unnamedFields === 'refuse' ? REFUSE : compileRule(MASK_SPEC, false, context);
  let root: RuleNode = { children: null, rule: null, fallback: null };
  for (const field of entry.fields) {
    let node = root;
    for (const segment of field.segments) {
      node.children ??= new Map();
      let child = node.children.get(segment.name);
      if (!child) {
        child = { children: null, rule: null, fallback: null };
        node.children.set(segment.name, child);
      }
      node = child;
    }
    const last = field.segments[field.segments.length - 1];
    node.rule = compileRule(field, (last?.arrayDepth ?? 0) > 0, context);
  }
  setFallbacks(root);
  if (buckets) root = bucketTree(root, compileRule(KEEP_SPEC, false, context));
  const walker = new Walker(context, defaultRule, namedCollections(rules), names);
  const anonymize = (bytes: Buffer): Buffer => {
    if (bytes.length < 5 || bytes.readInt32LE(0) !== bytes.length || bytes[bytes.length - 1] !== 0) {
      throw new UndecodableDocumentError('the document length does not match its bytes');
    }
    return walker.document(bytes, 0, bytes.length, root, defaultRule, false, 0) ?? bytes;
  };
  return {
    collection: entry.collection,
    anonymize,
    apply(doc) {
      const before = Buffer.from(BSON.serialize(doc));
      const after = anonymize(before);
      if (after === before) return false;
      const decoded = BSON.deserialize(after, DECODE_OPTIONS);
      for (const name of Object.keys(doc)) delete doc[name];
      Object.assign(doc, decoded);
      return true;
    },
  };
}

function setFallbacks(node: RuleNode): CompiledRule | null {
  let first: CompiledRule | null = node.rule && node.rule.kind !== 'keep' && node.rule.kind !== 'keep_subtree' ? node.rule : null;
  for (const child of node.children?.values() ?? []) {
    const found = setFallbacks(child);
    first ??= found;
  }
  node.fallback = node.rule ? null : first;
  return first;
}

/** Decodes, transforms and re-encodes one document; unchanged documents come back as the same Buffer. */
export function anonymizeBytes(bytes: Buffer, anonymizer: DocumentAnonymizer): Buffer {
  return anonymizer.anonymize(bytes);
}

/** Thrown inside a walk when a level holds a key twice; that level is walked again without the earlier copies. */
class DuplicateKeys extends Error {}

const MAX_LINEAR_NAMES = 16;
/** Names drivers and the application give meaning to (ids, DBRef parts): schema wherever they appear; their values are still masked. */
const STRUCTURAL_KEYS = new Set(['_id', '$ref', '$id', '$db']);
const KEY_MEMO_ENTRIES = 4096;


class Walker {
  private readonly keyMemo = new Map<string, boolean>();

  constructor(
    private readonly context: TransformContext,
    private readonly defaultRule: CompiledRule,
    /** Collection names a DBRef's `$ref` may keep: only names the rules already publish. */
    private readonly refTargets: ReadonlySet<string> = new Set(),
    /** Prints path segments in errors: only names the rules contain. */
    private readonly names: NameRedactor | null = null,
  ) {}

  /**
   * The rewritten document (or array) at bytes[start, end), or null when no
   * byte of it changes. `node` names rules below this level; `inherited` is
   * what unnamed leaves below get.
   */
  document(
    bytes: Buffer,
    start: number,
    end: number,
    node: RuleNode | null,
    inherited: CompiledRule,
    hashKeys: boolean,
    depth: number,
    elementRule: CompiledRule | null = null,
    /** A bucket column: elements keep their row-number keys. */
    rowKeys = false,
  ): Buffer | null {
    if (depth > MAX_DEPTH) throw new UndecodableDocumentError(`nested deeper than ${MAX_DEPTH} levels`);
    try {
      return this.level(bytes, start, end, node, inherited, hashKeys, depth, elementRule, null, rowKeys);
    } catch (error) {
      if (!(error instanceof DuplicateKeys)) throw error;
      return this.level(bytes, start, end, node, inherited, hashKeys, depth, elementRule, earlierDuplicates(bytes, start, end), rowKeys);
    }
  }

  private level(
    bytes: Buffer,
    start: number,
    end: number,
    node: RuleNode | null,
    inherited: CompiledRule,
    hashKeys: boolean,
    depth: number,
    /** Non-null for an array: the rule at the array's path, which applies to each element. */
    elementRule: CompiledRule | null,
    drop: Set<number> | null,
    rowKeys = false,
  ): Buffer | null {
    let parts: Buffer[] | null = null;
    let copied = start + 4;
    let outIndex = 0;
    let ordinal = 0;
    let names: string[] | null = null;
    let nameSet: Set<string> | null = null;
    let prescanned = false;
    const last = end - 1;
    let pos = start + 4;
    let name = '';
    try {
      while (pos < last) {
        const type = bytes[pos]!;
        const nameStart = pos + 1;
        const nameEnd = bytes.indexOf(0, nameStart);
        if (nameEnd < 0 || nameEnd >= last) throw new UndecodableDocumentError('an element name runs past the end of its document');
        const valueStart = nameEnd + 1;
        const size = valueSize(bytes, type, valueStart, last);
        if (size < 0) throw new UndecodableDocumentError(`an element of type 0x${type.toString(16)} is unknown or does not fit in its document`);
        const valueEnd = valueStart + size;
        const elementOrdinal = ordinal++;
        // A duplicate found after a subdocument was walked would walk it again, at every level below too (2^depth):
        // the level's names are checked once before its first subdocument is walked.
        if (drop === null && !elementRule && !prescanned && (type === T.document || type === T.array)) {
          prescanned = true;
          if (hasDuplicateNames(bytes, start, end)) throw new DuplicateKeys();
        }

        let newName: string | null = null;
        let out: ValueOut;
        if (drop?.has(elementOrdinal)) {
          out = REMOVED;
        } else if (elementRule) {
          name = '[]';
          const scalar = type !== T.document && type !== T.array;
          const rule = scalar && node && !node.rule && node.fallback ? node.fallback : elementRule;
          out = this.value(bytes, type, valueStart, valueEnd, rule, node, inherited, false, depth);
          if (rowKeys) {
            // A removed value just leaves its row out of the column; a key that is not a row number is data.
            if (out !== REMOVED && !isRowNumber(bytes, nameStart, nameEnd)) newName = `key-${hexPrefix(this.context.mac('key', bytes.toString('utf8', nameStart, nameEnd)), 24)}`;
          } else if (out !== REMOVED && !isIndexName(bytes, nameStart, nameEnd, outIndex)) newName = String(outIndex);
        } else {
          name = decodeName(bytes, nameStart, nameEnd);
          if (drop === null) {
            // Duplicate keys: detected here, handled by walking the level again (rare).
            if (nameSet) {
              if (nameSet.has(name)) throw new DuplicateKeys();
              nameSet.add(name);
            } else {
              names ??= [];
              if (names.includes(name)) throw new DuplicateKeys();
              names.push(name);
              if (names.length > MAX_LINEAR_NAMES) nameSet = new Set(names);
            }
          }
          const child = node?.children?.get(name) ?? node?.anyChild ?? null;
          const isId: IdPosition = (name === '_id' || name === '$id') && !child ? (depth === 0 && name === '_id' ? 'top' : 'nested') : false;
          // The allow-list applies to keys too: a key no rule names is data (a map keyed by emails, logins,
          // names...), not schema, since no detector can recognise every personal key. It is published only
          // under a keep_subtree (or a keeping default); otherwise it gets a keyed pseudonym, or the run is refused.
          // Top-level names are the collection's schema (the application's properties), published as they are.
          const keyFate = hashKeys ? 'pseudonym' : child || depth === 0 || STRUCTURAL_KEYS.has(name) ? 'keep' : keyTreatment(inherited.kind, this.defaultRule.kind);
          if (keyFate === 'refuse') throw new UnnamedFieldError([]);
          if (child?.rule) {
            out = this.value(bytes, type, valueStart, valueEnd, child.rule, child, inherited, isId, depth);
          } else if (child) {
            const container = type === T.document || type === T.array;
            out = this.value(bytes, type, valueStart, valueEnd, container ? inherited : (child.fallback ?? inherited), child, inherited, isId, depth);
          } else if (name === '$ref' && type === T.string && inherited.kind !== 'leaves' && this.refTargets.has(bytes.toString('utf8', valueStart + 4, valueEnd - 1))) {
            // A DBRef to a collection the rules name is structure; any other `$ref` (and every `$db`) may be data and is masked.
            out = null;
          } else {
            out = this.value(bytes, type, valueStart, valueEnd, inherited, null, inherited, isId, depth);
          }
          if (out !== REMOVED) {
            if (keyFate === 'pseudonym') newName = `key-${hexPrefix(this.context.mac('key', name), 24)}`;
            else if ((!child || child.columnOf === null) && this.looksPersonal(name, bytes, nameStart, nameEnd)) newName = `masked-${hexPrefix(this.context.mac('mask', name), 16)}`;
          }
        }

        if (out === REMOVED) {
          parts ??= [];
          parts.push(bytes.subarray(copied, pos));
          copied = valueEnd;
        } else {
          if (out !== null || newName !== null) {
            parts ??= [];
            parts.push(bytes.subarray(copied, pos));
            parts.push(newName !== null ? elementHeader(out?.type ?? type, newName) : elementHeader(out!.type, bytes.subarray(nameStart, nameEnd)));
            parts.push(out ? out.bytes : bytes.subarray(valueStart, valueEnd));
            copied = valueEnd;
          }
          outIndex++;
        }
        pos = valueEnd;
      }
    } catch (error) {
      if (error instanceof UnnamedFieldError) error.segments.unshift(elementRule ? '[]' : this.names ? this.names.segment(name) : '<unnamed key>');
      throw error;
    }
    if (pos !== last) throw new UndecodableDocumentError('a document does not end where its length says');
    if (parts === null) return null;
    parts.push(bytes.subarray(copied, end));
    let total = 4;
    for (const part of parts) total += part.length;
    const out = Buffer.allocUnsafe(total);
    out.writeInt32LE(total, 0);
    let at = 4;
    for (const part of parts) at += part.copy(out, at);
    return out;
  }

  /** What `rule` does to one value (at rule-tree `node`, unnamed children getting `inherited`). */
  private value(bytes: Buffer, type: number, start: number, end: number, rule: CompiledRule, node: RuleNode | null, inherited: CompiledRule, isId: IdPosition, depth: number): ValueOut {
    if (node?.columnOf !== undefined && type === T.document) {
      const logical = node.columnOf;
      const walked = this.document(bytes, start, end, logical, inherited, false, depth + 1, logical?.rule ?? inherited, true);
      return walked ? { type, bytes: walked } : null;
    }
    // A container at a path that only has rules below it is walked, never replaced by what unnamed values get.
    const walkOnly = node !== null && node.rule === null && (type === T.document || type === T.array);
    if (rule.kind === 'whole' && !walkOnly && !(rule.elementwise && type === T.array)) {
      const result = rule.fn!(decodeValue(bytes, type, start, end));
      return result === REMOVE || result === undefined ? REMOVED : encodeValue(result);
    }
    if (type === T.array) {
      const walked = this.document(bytes, start, end, node, inherited, false, depth + 1, rule);
      return walked ? { type, bytes: walked } : null;
    }
    if (type === T.document) {
      // Below a keep, unnamed children get what they would have got anyway; below any other rule, that rule.
      const below = rule.kind === 'keep' ? inherited : rule;
      const walked = this.document(bytes, start, end, node, below, rule.hashKeys, depth + 1);
      return walked ? { type, bytes: walked } : null;
    }
    switch (rule.kind) {
      case 'keep':
      case 'keep_subtree':
        return this.kept(bytes, type, start, end, rule.scrub);
      case 'mask':
        return maskScalar(bytes, type, start, end, isId, this.context);
      case 'leaves': {
        const result = rule.fn!(decodeValue(bytes, type, start, end));
        return result === REMOVE || result === undefined ? REMOVED : encodeValue(result);
      }
      case 'whole': {
        const result = rule.fn!(decodeValue(bytes, type, start, end));
        return result === REMOVE || result === undefined ? REMOVED : encodeValue(result);
      }
      case 'refuse':
        throw new UnnamedFieldError([]);
    }
  }

  /** A kept scalar: text is checked to be valid UTF-8 (else rewritten with replacement characters) and scrubbed. */
  private kept(bytes: Buffer, type: number, start: number, end: number, scrub: boolean): ValueOut {
    if (type === T.string || type === T.code || type === T.symbol) {
      const text = bytes.toString('utf8', start + 4, end - 1);
      const valid = !text.includes('\uFFFD') || isUtf8(bytes.subarray(start + 4, end - 1));
      const scrubbed = scrub ? scrubText(text, this.context) : text;
      return valid && scrubbed === text ? null : { type, bytes: encodeString(scrubbed) };
    }
    if (type === T.regex && scrub) {
      // A kept pattern is text like any other: /jane@uni\.ac\.uk/ is an address.
      const patternEnd = bytes.indexOf(0, start);
      const pattern = bytes.toString('utf8', start, patternEnd);
      const scrubbed = scrubText(pattern, this.context);
      if (scrubbed === pattern) return null;
      return { type, bytes: Buffer.concat([Buffer.from(scrubbed.replace(/\0/g, '') + '\0', 'utf8'), bytes.subarray(patternEnd + 1, end)]) };
    }
    if (type === T.codeWithScope && scrub) {
      const value = decodeValue(bytes, type, start, end) as { code: string; scope?: Document };
      const code = scrubText(value.code, this.context);
      const scope = value.scope ? (mapTextLeaves(value.scope, (text) => scrubText(text, this.context)) as Document) : undefined;
      const encoded = encodeValue(new (Object.getPrototypeOf(value).constructor as new (code: string, scope?: Document) => unknown)(code, scope));
      return encoded.bytes.equals(bytes.subarray(start, end)) ? null : encoded;
    }
    return null;
  }

  private looksPersonal(name: string, bytes: Buffer, nameStart: number, nameEnd: number): boolean {
    let personal = this.keyMemo.get(name);
    if (personal === undefined) {
      // A name that is not valid UTF-8 cannot be matched or shown: treat it as data.
      personal = looksLikePiiKey(name) || (name.includes('\uFFFD') && !isUtf8(bytes.subarray(nameStart, nameEnd)));
      if (this.keyMemo.size >= KEY_MEMO_ENTRIES) this.keyMemo.clear();
      this.keyMemo.set(name, personal);
    }
    return personal;
  }

  /** The default rule, for callers outside a document walk (the JavaScript mask). */
  get fallbackRule(): CompiledRule {
    return this.defaultRule;
  }
}

function namedCollections(rules: Rules): Set<string> {
  const names = new Set<string>(rules.collections.keys());
  for (const name of rules.sizeLimits.keys()) names.add(name);
  return names;
}

/** True when a name occurs twice at this level; false also when the level is malformed (the walk reports that). */
function hasDuplicateNames(bytes: Buffer, start: number, end: number): boolean {
  const last = end - 1;
  const names: string[] = [];
  let nameSet: Set<string> | null = null;
  for (let pos = start + 4; pos < last; ) {
    const nameEnd = bytes.indexOf(0, pos + 1);
    if (nameEnd < 0 || nameEnd >= last) return false;
    const size = valueSize(bytes, bytes[pos]!, nameEnd + 1, last);
    if (size < 0) return false;
    const name = decodeName(bytes, pos + 1, nameEnd);
    if (nameSet) {
      if (nameSet.has(name)) return true;
      nameSet.add(name);
    } else {
      if (names.includes(name)) return true;
      names.push(name);
      if (names.length > MAX_LINEAR_NAMES) nameSet = new Set(names);
    }
    pos = nameEnd + 1 + size;
  }
  return false;
}

function isRowNumber(bytes: Buffer, start: number, end: number): boolean {
  if (end <= start || end - start > 9 || (bytes[start] === 48 && end - start > 1)) return false;
  for (let i = start; i < end; i++) if (bytes[i]! < 48 || bytes[i]! > 57) return false;
  return true;
}

/** Ordinals of elements whose key appears again later in the same document. */
function earlierDuplicates(bytes: Buffer, start: number, end: number): Set<number> {
  const lastSeen = new Map<string, number>();
  const ordinals: string[] = [];
  const last = end - 1;
  for (let pos = start + 4; pos < last; ) {
    const type = bytes[pos]!;
    const nameEnd = bytes.indexOf(0, pos + 1);
    const size = valueSize(bytes, type, nameEnd + 1, last);
    if (nameEnd < 0 || size < 0) throw new UndecodableDocumentError('malformed element');
    const name = bytes.toString('utf8', pos + 1, nameEnd);
    lastSeen.set(name, ordinals.length);
    ordinals.push(name);
    pos = nameEnd + 1 + size;
  }
  const drop = new Set<number>();
  ordinals.forEach((name, i) => {
    if (lastSeen.get(name) !== i) drop.add(i);
  });
  return drop;
}

// The `mask` transform on a decoded value (rules preview, tests) goes through the same raw walk.
registerJsMasker((value, context) => {
  const walker = new Walker(context, compileRule(MASK_SPEC, false, context));
  const bytes = Buffer.from(BSON.serialize({ '': value }, { ignoreUndefined: false }));
  // The value sits at a path (the one the mask was given for): its own keys are named, deeper ones are data.
  const root: RuleNode = { children: new Map([['', { children: null, rule: null, fallback: null }]]), rule: null, fallback: null };
  const out = walker.document(bytes, 0, bytes.length, root, walker.fallbackRule, false, 0);
  return out ? (BSON.deserialize(out, DECODE_OPTIONS) as Document)[''] : value;
});

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
    const size = nameEnd < 0 ? -1 : valueSize(bytes, bytes[pos]!, nameEnd + 1, end);
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

/** How the engine treats one leaf path, for the coverage check and `rules init` (they must agree with the walk above). */
export type LeafDecision =
  | { kind: 'transform'; rule: FieldRule }
  | { kind: 'keep'; rule: FieldRule }
  | { kind: 'keep_subtree'; rule: FieldRule }
  /** No rule covers it: the collection's `default` (spec) or, when that is null, the file's `unnamed_fields`. */
  | { kind: 'default'; spec: TransformSpec | null; unnamedFields: Rules['unnamedFields'] };

/**
 * `names`: the literal field names from the document root to the leaf,
 * array elements left out (arrays are transparent, as in rule paths).
 * `entry` null (a collection named only by a size limit) means no field rules.
 */
export function decideLeaf(rules: Rules, entry: CollectionRules | null, names: readonly string[], buckets = false): LeafDecision {
  if (buckets) {
    // system.buckets.X read with X's rules: match the path X's documents have (see bucketTree).
    const logical = bucketLogicalNames(names);
    if (logical === 'keep') return { kind: 'keep', rule: { ...KEEP_SPEC, path: names.join('.'), normalized: names.join('.'), segments: names.map((name) => ({ name, arrayDepth: 0 })) } };
    if (logical === null) return { kind: 'default', spec: entry?.default ?? null, unnamedFields: rules.unnamedFields };
    names = logical;
  }
  const fallbackDecision: LeafDecision = { kind: 'default', spec: entry?.default ?? null, unnamedFields: rules.unnamedFields };
  let inherited: LeafDecision = fallbackDecision;
  let candidates = entry?.fields ?? [];
  for (let depth = 0; depth < names.length; depth++) {
    const name = names[depth]!;
    const isLeaf = depth === names.length - 1;
    candidates = candidates.filter((rule) => rule.segments.length > depth && rule.segments[depth]!.name === name);
    if (candidates.length === 0) return inherited;
    const exact = candidates.find((rule) => rule.segments.length === depth + 1);
    if (exact) {
      const kind = exact.keepsSubtree ? 'keep_subtree' : exact.keepsValue ? 'keep' : 'transform';
      if (isLeaf || kind === 'transform') return { kind, rule: exact };
      if (kind === 'keep_subtree') inherited = { kind, rule: exact };
      continue;
    }
    if (isLeaf) {
      // A scalar where rules name fields below it: the first transforming rule beneath applies (as in the walk).
      const below = candidates.find((rule) => !rule.keepsValue);
      return below ? { kind: 'transform', rule: below } : inherited;
    }
  }
  return inherited;
}

export type KeyTreatment = 'keep' | 'pseudonym' | 'refuse';

/**
 * What happens to a key no rule names, given what unnamed values at its
 * level get (`inherited`: the nearest enclosing rule that is not a plain
 * `keep`, else the default) and the collection's default. One function for
 * the engine and the coverage check, so they cannot disagree.
 */
export function keyTreatment(inherited: string, defaultKind: string): KeyTreatment {
  if (inherited === 'keep_subtree' || inherited === 'keep') return 'keep';
  if (defaultKind === 'keep_subtree' || defaultKind === 'keep') return 'keep';
  return defaultKind === 'refuse' ? 'refuse' : 'pseudonym';
}

/**
 * How the engine treats the keys along a path (`names` as for decideLeaf):
 * the first key it would not publish as it is, with what it does instead,
 * or null when every key on the path is published (named by a rule,
 * structural, or under a keep_subtree).
 */
export function decideKeys(rules: Rules, entry: CollectionRules | null, names: readonly string[]): { index: number; treatment: Exclude<KeyTreatment, 'keep'> } | null {
  const defaultKind = ruleKindOf(entry?.default ?? null, rules.unnamedFields);
  let inherited = defaultKind;
  let candidates = entry?.fields ?? [];
  /** The parent's rule says `keys: hash`: its own keys are pseudonyms, whatever the default (as in the walk). */
  let hashed = false;
  for (let depth = 0; depth < names.length; depth++) {
    const name = names[depth]!;
    candidates = candidates.filter((rule) => rule.segments.length > depth && rule.segments[depth]!.name === name);
    if (hashed) return { index: depth, treatment: 'pseudonym' };
    if (candidates.length === 0) {
      if (depth === 0 || STRUCTURAL_KEYS.has(name)) continue;
      const treatment = keyTreatment(inherited, defaultKind);
      if (treatment !== 'keep') return { index: depth, treatment };
      continue;
    }
    const exact = candidates.find((rule) => rule.segments.length === depth + 1);
    if (exact && !(exact.keepsValue && !exact.keepsSubtree)) inherited = ruleKindOf(exact, rules.unnamedFields);
    hashed = exact?.keys === 'hash';
  }
  return null;
}

function ruleKindOf(spec: TransformSpec | null, unnamedFields: Rules['unnamedFields']): string {
  if (spec === null) return unnamedFields === 'refuse' ? 'refuse' : 'mask';
  return spec.keepsSubtree ? 'keep_subtree' : spec.keepsValue ? 'keep' : spec.transform;
}
