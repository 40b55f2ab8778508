/**
 * Every element of a raw BSON document, read straight from the bytes. The
 * coverage check reads documents this way rather than through a decoder so
 * that nothing a decoder hides can hide from it: a duplicate key (a decoder
 * keeps one of them), a Binary holding text, Code, Symbol, a Regex pattern, a
 * DBPointer, a code-with-scope's scope.
 */
import { Decimal128 } from 'bson';
import { decodeName } from './bson-raw.js';

export interface RawLeaf {
  /** Field names from the root; array elements are the segment `[]`. */
  path: readonly string[];
  /** The interned node of `path` (one object per distinct path under one PathTree): a place to memoize per-path work. */
  node: PathNode;
  /** BSON type byte. */
  type: number;
  /** Text a person could read in the value (strings, code, regex, binary bytes...); null when there is none. Decoded on first read. */
  readonly text: string | null;
  /** True for strings (type 0x02): the only values free-text scrubbing rewrites. */
  isString: boolean;
}

export interface RawVisitor {
  leaf(leaf: RawLeaf): void;
  /** Every key of every subdocument (array indexes excluded), with the path of its value. */
  key?(path: readonly string[], key: string, node: PathNode): void;
}

export class MalformedBsonError extends Error {}

export const ARRAY_ELEMENT = '[]';

/**
 * One distinct path seen by the walk. Nodes are interned per PathTree, so a
 * consumer pays for a path's names, decision and display once per path, not
 * once per document; `memo` is the consumer's slot.
 */
export class PathNode {
  children: Map<string, PathNode> | null = null;
  memo: unknown = undefined;
  constructor(
    readonly path: readonly string[],
    readonly tree: PathTree,
  ) {}

  child(segment: string): PathNode {
    const found = this.children?.get(segment);
    if (found) return found;
    const node = new PathNode([...this.path, segment], this.tree);
    // Hostile data can hold any number of distinct keys: past the bound, nodes are not remembered (and memoize nothing).
    if (this.tree.size < this.tree.maxNodes) {
      (this.children ??= new Map()).set(segment, node);
      this.tree.size++;
    }
    return node;
  }
}

/** The interned paths of one collection's documents, at most `maxNodes` of them. */
export class PathTree {
  size = 0;
  readonly root: PathNode;
  constructor(readonly maxNodes = 50_000) {
    this.root = new PathNode([], this);
  }
}

export function walkRawDocument(bytes: Buffer, visitor: RawVisitor, tree: PathTree = new PathTree()): void {
  walk(bytes, 0, tree.root, false, visitor, 0);
}

const MAX_DEPTH = 200;

function walk(bytes: Buffer, start: number, parent: PathNode, isArray: boolean, visitor: RawVisitor, depth: number): number {
  if (depth > MAX_DEPTH) throw new MalformedBsonError('nesting deeper than 200 levels');
  if (start + 5 > bytes.length) throw new MalformedBsonError('truncated document');
  const size = bytes.readInt32LE(start);
  const end = start + size;
  if (size < 5 || end > bytes.length || bytes[end - 1] !== 0) throw new MalformedBsonError('bad document length');
  let at = start + 4;
  const element = isArray ? parent.child(ARRAY_ELEMENT) : null;
  while (at < end - 1) {
    const type = bytes[at]!;
    const nameEnd = bytes.indexOf(0, at + 1);
    if (nameEnd < 0 || nameEnd >= end) throw new MalformedBsonError('unterminated field name');
    let node: PathNode;
    if (element) node = element;
    else {
      const name = decodeName(bytes, at + 1, nameEnd);
      node = parent.child(name);
      visitor.key?.(node.path, name, node);
    }
    at = elementAt(bytes, nameEnd + 1, end, type, node, visitor, depth);
  }
  return end;
}

/** A leaf whose text is decoded only when a visitor reads it (most leaves are transformed, never read). */
class Leaf implements RawLeaf {
  private decoded: string | null | undefined = undefined;
  constructor(
    readonly node: PathNode,
    readonly type: number,
    private readonly bytes: Buffer,
    private readonly start: number,
    private readonly end: number,
    readonly isString: boolean,
  ) {}

  get path(): readonly string[] {
    return this.node.path;
  }

  get text(): string | null {
    if (this.decoded === undefined) this.decoded = leafText(this.bytes, this.type, this.start, this.end);
    return this.decoded;
  }
}

function need(at: number, n: number, end: number): void {
  if (at + n > end) throw new MalformedBsonError('truncated value');
}

/** Checks the element's value at `at` (of `type`), reports leaves, walks containers; the offset after it. */
function elementAt(bytes: Buffer, at: number, end: number, type: number, node: PathNode, visitor: RawVisitor, depth: number): number {
  let next: number;
  switch (type) {
    case 0x01: // double
    case 0x09: // date
    case 0x11: // timestamp
    case 0x12: // int64
      need(at, 8, end);
      next = at + 8;
      break;
    case 0x10: // int32
      need(at, 4, end);
      next = at + 4;
      break;
    case 0x08: // boolean
      need(at, 1, end);
      next = at + 1;
      break;
    case 0x06: // undefined
    case 0x0a: // null
    case 0x7f: // max key
    case 0xff: // min key
      next = at;
      break;
    case 0x07: // ObjectId
      need(at, 12, end);
      next = at + 12;
      break;
    case 0x13: // decimal128
      need(at, 16, end);
      next = at + 16;
      break;
    case 0x02: // string
    case 0x0d: // JavaScript code
    case 0x0e: // symbol
      next = stringEnd(bytes, at, end);
      break;
    case 0x0c: // DBPointer: namespace string + ObjectId
      next = stringEnd(bytes, at, end);
      if (next + 12 > end) throw new MalformedBsonError('truncated DBPointer');
      next += 12;
      break;
    case 0x0b: {
      // regex: pattern cstring + flags cstring
      const patternEnd = bytes.indexOf(0, at);
      const flagsEnd = patternEnd < 0 ? -1 : bytes.indexOf(0, patternEnd + 1);
      if (patternEnd < 0 || flagsEnd < 0 || flagsEnd >= end) throw new MalformedBsonError('truncated regex');
      next = flagsEnd + 1;
      break;
    }
    case 0x05: {
      need(at, 5, end);
      const length = bytes.readInt32LE(at);
      if (length < 0 || at + 5 + length > end) throw new MalformedBsonError('truncated binary');
      next = at + 5 + length;
      break;
    }
    case 0x0f: {
      // code with scope: int32 total, code string, scope document (checked now; its text is read when asked for)
      need(at, 4, end);
      const total = bytes.readInt32LE(at);
      if (total < 14 || at + total > end) throw new MalformedBsonError('truncated code with scope');
      const codeEnd = stringEnd(bytes, at + 4, at + total);
      walk(bytes, codeEnd, new PathTree(0).root, false, { leaf: () => undefined }, depth + 1);
      next = at + total;
      break;
    }
    case 0x03:
    case 0x04:
      return walk(bytes, at, node, type === 0x04, visitor, depth + 1);
    default:
      throw new MalformedBsonError(`unknown BSON type 0x${type.toString(16)}`);
  }
  visitor.leaf(new Leaf(node, type, bytes, at, next, type === 0x02));
  return next;
}

/** The readable text of a leaf value already checked by elementAt. */
function leafText(bytes: Buffer, type: number, at: number, next: number): string | null {
  switch (type) {
    case 0x13:
      return new Decimal128(bytes.subarray(at, at + 16)).toString();
    case 0x02:
    case 0x0d:
    case 0x0e:
    case 0x0c:
      return bytes.toString('utf8', at + 4, at + 4 + bytes.readInt32LE(at) - 1);
    case 0x0b: {
      const patternEnd = bytes.indexOf(0, at);
      return `${bytes.toString('utf8', at, patternEnd)} ${bytes.toString('utf8', patternEnd + 1, next - 1)}`;
    }
    case 0x05: {
      const length = bytes.readInt32LE(at);
      const subtype = bytes[at + 4]!;
      // A 16-byte UUID is an opaque id; any other binary may hold text (a 34-byte "UUID" holding an email).
      const opaqueUuid = (subtype === 3 || subtype === 4) && length === 16;
      return opaqueUuid ? null : bytes.toString('latin1', at + 5, at + 5 + length);
    }
    case 0x0f: {
      const codeEnd = stringEnd(bytes, at + 4, next);
      const texts: string[] = [bytes.toString('utf8', at + 8, codeEnd - 1)];
      walk(bytes, codeEnd, new PathTree(0).root, false, { leaf: (l) => l.text !== null && texts.push(l.text), key: (_p, key) => texts.push(key) }, 0);
      return texts.join(' ');
    }
    default:
      return null;
  }
}

/** The offset just after the BSON string (int32 length, bytes, NUL) at `at`. */
function stringEnd(bytes: Buffer, at: number, end: number): number {
  if (at + 4 > end) throw new MalformedBsonError('truncated string');
  const length = bytes.readInt32LE(at);
  if (length < 1 || at + 4 + length > end) throw new MalformedBsonError('bad string length');
  return at + 4 + length;
}
