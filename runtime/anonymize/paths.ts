/**
 * Field paths as written in the rules file: `Email`, `Contact.Email`,
 * `Members[].Email`, `Tags[]`. The `[]` marker documents that a segment is an
 * array; traversal steps into arrays whether or not it is written (as MongoDB
 * queries do), so a rule cannot miss values because an array was unexpected.
 */

const SEGMENT = /^([^.[\]$][^.[\]]*)((?:\[\])*)$/;

export interface PathSegment {
  name: string;
  /** How many `[]` markers followed the name. */
  arrayDepth: number;
}

export const PATH_SYNTAX_HELP = 'field paths look like Email, Contact.Email or Members[].Email (no "$", no empty parts)';

/** null when `path` is not valid path syntax. */
export function parseFieldPath(path: string): PathSegment[] | null {
  if (path.length === 0) return null;
  const segments: PathSegment[] = [];
  for (const part of path.split('.')) {
    const match = SEGMENT.exec(part);
    if (!match) return null;
    segments.push({ name: match[1]!, arrayDepth: (match[2] ?? '').length / 2 });
  }
  return segments;
}

/** The path without array markers: what rule matching compares. */
export function normalizePath(path: string): string {
  return path.replace(/\[\]/g, '');
}

export function formatPath(segments: readonly PathSegment[]): string {
  return segments.map((s) => s.name + '[]'.repeat(s.arrayDepth)).join('.');
}
