/**
 * The one way this project reads YAML (the rules file, `#preview-config`
 * blocks in PR descriptions). Those are untrusted or hand-edited, so every
 * parse is bounded: input size, alias expansion (a 500-byte "billion laughs"
 * would otherwise take minutes and gigabytes), nesting depth; and the result
 * is plain data: no duplicate keys, no non-string keys, no keys that would
 * reach an object's prototype. Every node keeps its exact line, so errors
 * can point at it, whatever YAML style it was written in.
 */
import { LineCounter, isAlias, isMap, isPair, isScalar, isSeq, parseDocument, type Node } from 'yaml';

export type KeyPath = readonly (string | number)[];

export interface PositionIndex {
  /** 1-based line of the deepest indexed prefix of `path`; 1 when nothing matches. */
  lineOf(path: KeyPath): number;
}

export interface YamlLimits {
  /** Bytes of UTF-8 input. */
  maxBytes: number;
  /** Alias nodes (`*name`) the document may expand; 0 refuses aliases. */
  maxAliasCount?: number;
  /** Nested mappings/sequences. */
  maxDepth?: number;
}

export interface LoadedYaml {
  value: unknown;
  positions: PositionIndex;
}

export interface YamlIssue {
  /** 1-based line of the input. */
  line: number;
  reason: string;
}

/** Why a YAML text was refused: its first problems, each with the line it is on. */
export class YamlProblem extends Error {
  readonly issues: readonly YamlIssue[];

  constructor(line: number, reason: string, more: readonly YamlIssue[] = []) {
    super(`line ${line}: ${reason}`);
    this.name = 'YamlProblem';
    this.issues = [{ line, reason }, ...more];
  }

  get line(): number {
    return this.issues[0]!.line;
  }

  get reason(): string {
    return this.issues[0]!.reason;
  }
}

/** The parser's wording for the mistakes people make most, said the way they would look for it. */
const FRIENDLIER: Record<string, string> = {
  DUPLICATE_KEY: 'duplicated mapping key (each key may appear once)',
  MULTIPLE_DOCS: 'more than one YAML document (remove the "---" separators)',
  TAB_AS_INDENT: 'a tab used for indentation (YAML needs spaces)',
};

const MAX_REPORTED_ISSUES = 5;

/**
 * Keys that, as plain data, reach or shadow an object's prototype when code
 * assigns them (`target[key] = value`), and so would be dropped or change
 * behaviour downstream. They are refused, not silently kept.
 */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

const DEFAULT_MAX_ALIASES = 50;
const DEFAULT_MAX_DEPTH = 64;

export function loadYaml(text: string, limits: YamlLimits): LoadedYaml {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > limits.maxBytes) {
    throw new YamlProblem(1, `the YAML is ${bytes} bytes long; at most ${limits.maxBytes} are accepted`);
  }
  // Deep nesting is refused before the parser sees it: the parser's work grows with depth.
  const maxDepth = limits.maxDepth ?? DEFAULT_MAX_DEPTH;
  const tooDeep = flowDepthExceeded(text, maxDepth);
  if (tooDeep !== null) throw new YamlProblem(tooDeep, `nested more than ${maxDepth} levels deep`);

  const lineCounter = new LineCounter();
  const lineAt = (offset: number | undefined) => (offset === undefined ? 1 : lineCounter.linePos(offset).line);
  const document = parseDocument(text, {
    lineCounter,
    prettyErrors: false,
    // The parser's own duplicate check compares every key with every other (quadratic: 60 000 keys took
    // minutes); the walk below finds duplicates with a set per mapping instead.
    uniqueKeys: false,
    strict: true,
    schema: 'core',
    merge: false,
    keepSourceTokens: false,
  });
  if (document.errors.length > 0) {
    const seen = new Set<string>();
    const issues: YamlIssue[] = [];
    for (const error of document.errors) {
      // A mistake spanning lines is reported on each line it touches: the one to fix is among them.
      for (const offset of new Set([error.pos[0], Math.max(error.pos[0], error.pos[1] - 1)])) {
        const issue = { line: lineAt(offset), reason: FRIENDLIER[error.code] ?? lowerFirst(error.message) };
        const id = `${issue.line}\0${issue.reason}`;
        if (!seen.has(id)) issues.push(issue);
        seen.add(id);
      }
    }
    const [first, ...rest] = issues.slice(0, MAX_REPORTED_ISSUES);
    throw new YamlProblem(first!.line, first!.reason, rest);
  }

  const lines = new Map<string, number>();
  let aliases = 0;
  const maxAliases = limits.maxAliasCount ?? DEFAULT_MAX_ALIASES;
  const visit = (node: Node | null | undefined, path: (string | number)[], depth: number): void => {
    if (!node) return;
    if (depth > maxDepth) throw new YamlProblem(lineAt(node.range?.[0]), `nested more than ${maxDepth} levels deep`);
    if (isAlias(node)) {
      if (++aliases > maxAliases) {
        throw new YamlProblem(lineAt(node.range?.[0]), `more than ${maxAliases} aliases (*name); aliases are limited so a small text cannot expand into a huge document`);
      }
      return;
    }
    if (isMap(node)) {
      const names = new Set<string>();
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const keyNode = pair.key as Node | null;
        const keyLine = lineAt(keyNode?.range?.[0] ?? (pair.value as Node | null)?.range?.[0]);
        if (!isScalar(keyNode) || (keyNode.value !== null && typeof keyNode.value !== 'string' && typeof keyNode.value !== 'number' && typeof keyNode.value !== 'boolean')) {
          throw new YamlProblem(keyLine, 'a mapping key must be a plain name, not a list, a mapping or an alias');
        }
        const name = String(keyNode.value);
        if (FORBIDDEN_KEYS.has(name)) throw new YamlProblem(keyLine, `"${name}" is not allowed as a key`);
        if (names.has(name)) throw new YamlProblem(keyLine, FRIENDLIER.DUPLICATE_KEY!);
        names.add(name);
        const at = [...path, name];
        lines.set(JSON.stringify(at), keyLine);
        visit(pair.value as Node | null, at, depth + 1);
      }
      return;
    }
    if (isSeq(node)) {
      node.items.forEach((item, index) => {
        const at = [...path, index];
        lines.set(JSON.stringify(at), lineAt((item as Node | null)?.range?.[0]));
        visit(item as Node | null, at, depth + 1);
      });
    }
  };
  visit(document.contents as Node | null, [], 0);

  let value: unknown;
  try {
    value = document.toJS({ maxAliasCount: maxAliases });
  } catch (error) {
    // The walk above already bounds aliases; this is the parser's own guard against expansion.
    throw new YamlProblem(1, `the YAML cannot be expanded: ${(error as Error).message}`);
  }
  return {
    value,
    positions: {
      lineOf(path) {
        for (let n = path.length; n > 0; n--) {
          const line = lines.get(JSON.stringify(path.slice(0, n)));
          if (line !== undefined) return line;
        }
        return 1;
      },
    },
  };
}

/** Line of the first flow bracket nested deeper than `max`, scanning outside quotes and comments; null if none. */
function flowDepthExceeded(text: string, max: number): number | null {
  let depth = 0;
  let line = 1;
  let quote: string | null = null;
  let comment = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\n') {
      line++;
      comment = false;
      if (quote === null) continue;
    }
    if (comment) continue;
    if (quote !== null) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = null;
      continue;
    }
    if (c === '#' && (i === 0 || /\s/.test(text[i - 1]!))) comment = true;
    else if ((c === '"' || c === "'") && (i === 0 || /[\s[{,:]/.test(text[i - 1]!))) quote = c;
    else if (c === '[' || c === '{') {
      if (++depth > max) return line;
    } else if ((c === ']' || c === '}') && depth > 0) depth--;
  }
  return null;
}

function lowerFirst(message: string): string {
  return message.charAt(0).toLowerCase() + message.slice(1);
}
