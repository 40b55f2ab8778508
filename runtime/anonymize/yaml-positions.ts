/**
 * js-yaml does not report where a node came from, so validation errors would
 * have no line number. This scanner indexes the line of every mapping key
 * and block-sequence item by its key path (`rules.pmInvestigator.fields.Email`).
 * It understands the block style the rules file uses; keys inside flow
 * collections (`{ transform: hash }`) resolve to the line of the nearest
 * indexed ancestor, which is the same line.
 */
export type KeyPath = readonly (string | number)[];

export interface PositionIndex {
  /** 1-based line of the deepest indexed prefix of `path`; 1 when nothing matches. */
  lineOf(path: KeyPath): number;
}

interface OpenNode {
  indent: number;
  path: (string | number)[];
  /** Next index for `- ` items directly in this node. */
  nextItem: number;
  kind: 'root' | 'key' | 'item';
}

const KEY_LINE = /^("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s#'"{[\]},&*!|>%@`-][^#]*?|-[^\s#][^#]*?)\s*:(?:\s+(.*))?$/;
const BLOCK_SCALAR = /^[|>][-+0-9]*\s*(#.*)?$/;

export function buildPositionIndex(text: string): PositionIndex {
  const lines = new Map<string, number>();
  const stack: OpenNode[] = [{ indent: -1, path: [], nextItem: 0, kind: 'root' }];
  const rows = text.split(/\r\n|\n|\r/);
  let blockScalarIndent: number | null = null;

  for (let i = 0; i < rows.length; i++) {
    const raw = rows[i]!;
    const lineNo = i + 1;
    const content = raw.trimStart();
    let indent = raw.length - content.length;
    if (blockScalarIndent !== null) {
      if (content === '' || indent > blockScalarIndent) continue;
      blockScalarIndent = null;
    }
    if (content === '' || content.startsWith('#') || content.startsWith('---') || content.startsWith('...')) continue;

    let rest = content;
    // One line may open several nested sequence items: `- - a`, or `- key: v`.
    while (true) {
      const isItem = rest === '-' || rest.startsWith('- ');
      // YAML lets a key's sequence items sit at the key's own indentation.
      while (stack.length > 1 && closes(stack[stack.length - 1]!, indent, isItem)) stack.pop();
      const parent = stack[stack.length - 1]!;
      if (isItem) {
        const item = parent.nextItem++;
        const path = [...parent.path, item];
        lines.set(key(path), lineNo);
        stack.push({ indent, path, nextItem: 0, kind: 'item' });
        const after = rest.slice(1).trimStart();
        if (after === '') break;
        indent += rest.length - after.length;
        rest = after;
        continue;
      }
      const match = KEY_LINE.exec(rest);
      if (match) {
        const name = unquote(match[1]!.trim());
        const path = [...parent.path, name];
        lines.set(key(path), lineNo);
        stack.push({ indent, path, nextItem: 0, kind: 'key' });
        if (match[2] !== undefined && BLOCK_SCALAR.test(match[2].trim())) blockScalarIndent = indent;
      }
      break;
    }
  }

  return {
    lineOf(path) {
      for (let n = path.length; n > 0; n--) {
        const line = lines.get(key(path.slice(0, n)));
        if (line !== undefined) return line;
      }
      return 1;
    },
  };
}

function closes(node: OpenNode, indent: number, isItem: boolean): boolean {
  if (node.indent > indent) return true;
  if (node.indent < indent) return false;
  return !(isItem && node.kind === 'key');
}

function key(path: KeyPath): string {
  return JSON.stringify(path);
}

function unquote(name: string): string {
  if (name.startsWith('"') && name.endsWith('"')) {
    try {
      return JSON.parse(name) as string;
    } catch {
      return name.slice(1, -1);
    }
  }
  if (name.startsWith("'") && name.endsWith("'")) return name.slice(1, -1).replace(/''/g, "'");
  return name;
}
