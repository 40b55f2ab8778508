/**
 * Field paths as written in the rules file: `Email`, `Contact.Email`,
 * `Members[].Email`, `Tags[]`, and literal field names that contain the
 * syntax characters: `Contact\.Email` is one field named "Contact.Email".
 *
 * `.` separates segments; `[]` after a segment marks the elements of the
 * array there; `\.`, `\[`, `\]`, `\\` and `\$` stand for the character
 * itself. Array elements do not add a segment when matching (as in MongoDB
 * queries), so `Members.Email` and `Members[].Email` name the same leaves;
 * the marker only decides whether a transform applies to each element or to
 * the array as a whole.
 */

export interface PathSegment {
  /** The literal field name (escapes resolved). */
  name: string;
  /** How many `[]` markers followed the name. */
  arrayDepth: number;
}

export const PATH_SYNTAX_HELP =
  'field paths look like Email, Contact.Email or Members[].Email; a field whose name contains . [ ] \\ or starts with $ is written with a backslash before that character, e.g. Contact\\.Email';

const ESCAPABLE = new Set(['.', '[', ']', '\\', '$']);

/** null when `path` is not valid path syntax. */
export function parseFieldPath(path: string): PathSegment[] | null {
  if (path.length === 0) return null;
  const segments: PathSegment[] = [];
  let name = '';
  let started = false;
  let arrayDepth = 0;
  for (let i = 0; i < path.length; i++) {
    const c = path[i]!;
    if (c === '.') {
      if (!started) return null;
      segments.push({ name, arrayDepth });
      name = '';
      started = false;
      arrayDepth = 0;
      continue;
    }
    if (c === '[') {
      if (!started || path[i + 1] !== ']') return null;
      arrayDepth++;
      i++;
      continue;
    }
    // Nothing but further markers may follow an array marker within a segment.
    if (arrayDepth > 0 || c === ']') return null;
    if (c === '\\') {
      const next = path[i + 1];
      if (next === undefined || !ESCAPABLE.has(next)) return null;
      name += next;
      started = true;
      i++;
      continue;
    }
    // An unescaped `$` at the start of a segment reads like a query operator.
    if (c === '$' && !started) return null;
    name += c;
    started = true;
  }
  if (!started) return null;
  segments.push({ name, arrayDepth });
  return segments;
}

/** A literal field name written so that parseFieldPath reads it back as one segment. */
export function escapeFieldName(name: string): string {
  let out = '';
  for (let i = 0; i < name.length; i++) {
    const c = name[i]!;
    if (c === '.' || c === '[' || c === ']' || c === '\\' || (c === '$' && i === 0)) out += '\\';
    out += c;
  }
  return out;
}

/** The path without array markers (escapes kept): what rule matching compares. */
export function normalizePath(path: string): string {
  const segments = parseFieldPath(path);
  if (!segments) return path.replace(/\[\]/g, '');
  return segments.map((s) => escapeFieldName(s.name)).join('.');
}

export function formatPath(segments: readonly PathSegment[]): string {
  return segments.map((s) => escapeFieldName(s.name) + '[]'.repeat(s.arrayDepth)).join('.');
}
