/**
 * Every element of a raw BSON document, read straight from the bytes. The
 * coverage check reads documents this way rather than through a decoder so
 * that nothing a decoder hides can hide from it: a duplicate key (a decoder
 * keeps one of them), a Binary holding text, Code, Symbol, a Regex pattern, a
 * DBPointer, a code-with-scope's scope.
 */
import { Decimal128 } from 'bson';

export interface RawLeaf {
  /** Field names from the root; array elements are the segment `[]`. */
  path: readonly string[];
  /** BSON type byte. */
  type: number;
  /** Text a person could read in the value (strings, code, regex, binary bytes...); null when there is none. */
  text: string | null;
  /** True for strings (type 0x02): the only values free-text scrubbing rewrites. */
  isString: boolean;
}

export interface RawVisitor {
  leaf(leaf: RawLeaf): void;
  /** Every key of every subdocument (array indexes excluded), with the path of its value. */
  key?(path: readonly string[], key: string): void;
}

export class MalformedBsonError extends Error {}

export const ARRAY_ELEMENT = '[]';

export function walkRawDocument(bytes: Buffer, visitor: RawVisitor): void {
  walk(bytes, 0, [], false, visitor, 0);
}

const MAX_DEPTH = 200;

function walk(bytes: Buffer, start: number, path: string[], isArray: boolean, visitor: RawVisitor, depth: number): number {
  if (depth > MAX_DEPTH) throw new MalformedBsonError('nesting deeper than 200 levels');
  if (start + 5 > bytes.length) throw new MalformedBsonError('truncated document');
  const size = bytes.readInt32LE(start);
  const end = start + size;
  if (size < 5 || end > bytes.length || bytes[end - 1] !== 0) throw new MalformedBsonError('bad document length');
  let at = start + 4;
  while (at < end - 1) {
    const type = bytes[at]!;
    const nameEnd = bytes.indexOf(0, at + 1);
    if (nameEnd < 0 || nameEnd >= end) throw new MalformedBsonError('unterminated field name');
    const name = bytes.toString('utf8', at + 1, nameEnd);
    const segment = isArray ? ARRAY_ELEMENT : name;
    const childPath = [...path, segment];
    if (!isArray) visitor.key?.(childPath, name);
    at = nameEnd + 1;
    at = element(bytes, at, end, type, childPath, visitor, depth);
  }
  return end;
}

function element(bytes: Buffer, at: number, end: number, type: number, path: string[], visitor: RawVisitor, depth: number): number {
  const need = (n: number) => {
    if (at + n > end) throw new MalformedBsonError('truncated value');
  };
  const leaf = (text: string | null, next: number, isString = false) => {
    visitor.leaf({ path, type, text, isString });
    return next;
  };
  switch (type) {
    case 0x01: // double
    case 0x09: // date
    case 0x11: // timestamp
    case 0x12: // int64
      need(8);
      return leaf(null, at + 8);
    case 0x10: // int32
      need(4);
      return leaf(null, at + 4);
    case 0x08: // boolean
      need(1);
      return leaf(null, at + 1);
    case 0x06: // undefined
    case 0x0a: // null
    case 0x7f: // max key
    case 0xff: // min key
      return leaf(null, at);
    case 0x07: // ObjectId
      need(12);
      return leaf(null, at + 12);
    case 0x13: // decimal128
      need(16);
      return leaf(new Decimal128(bytes.subarray(at, at + 16)).toString(), at + 16);
    case 0x02: // string
    case 0x0d: // JavaScript code
    case 0x0e: {
      // symbol
      const [text, next] = stringAt(bytes, at, end);
      return leaf(text, next, type === 0x02);
    }
    case 0x0c: {
      // DBPointer: namespace string + ObjectId
      const [text, next] = stringAt(bytes, at, end);
      if (next + 12 > end) throw new MalformedBsonError('truncated DBPointer');
      return leaf(text, next + 12);
    }
    case 0x0b: {
      // regex: pattern cstring + flags cstring
      const patternEnd = bytes.indexOf(0, at);
      const flagsEnd = patternEnd < 0 ? -1 : bytes.indexOf(0, patternEnd + 1);
      if (patternEnd < 0 || flagsEnd < 0 || flagsEnd >= end) throw new MalformedBsonError('truncated regex');
      return leaf(`${bytes.toString('utf8', at, patternEnd)} ${bytes.toString('utf8', patternEnd + 1, flagsEnd)}`, flagsEnd + 1);
    }
    case 0x05: {
      need(5);
      const length = bytes.readInt32LE(at);
      const subtype = bytes[at + 4]!;
      if (length < 0 || at + 5 + length > end) throw new MalformedBsonError('truncated binary');
      const data = bytes.subarray(at + 5, at + 5 + length);
      // A 16-byte UUID is an opaque id; any other binary may hold text (a 34-byte "UUID" holding an email).
      const opaqueUuid = (subtype === 3 || subtype === 4) && length === 16;
      return leaf(opaqueUuid ? null : data.toString('latin1'), at + 5 + length);
    }
    case 0x0f: {
      // code with scope: int32 total, code string, scope document
      need(4);
      const total = bytes.readInt32LE(at);
      if (total < 14 || at + total > end) throw new MalformedBsonError('truncated code with scope');
      const [code, next] = stringAt(bytes, at + 4, at + total);
      const texts: string[] = [code];
      walk(bytes, next, path, false, { leaf: (l) => l.text !== null && texts.push(l.text), key: (_p, key) => texts.push(key) }, depth + 1);
      return leaf(texts.join(' '), at + total);
    }
    case 0x03:
    case 0x04:
      return walk(bytes, at, path, type === 0x04, visitor, depth + 1);
    default:
      throw new MalformedBsonError(`unknown BSON type 0x${type.toString(16)}`);
  }
}

function stringAt(bytes: Buffer, at: number, end: number): [string, number] {
  if (at + 4 > end) throw new MalformedBsonError('truncated string');
  const length = bytes.readInt32LE(at);
  if (length < 1 || at + 4 + length > end) throw new MalformedBsonError('bad string length');
  return [bytes.toString('utf8', at + 4, at + 4 + length - 1), at + 4 + length];
}
