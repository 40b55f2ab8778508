/**
 * Finds `#preview-config` code blocks in a PR description (GitHub
 * Markdown). Only fenced blocks count (``` or ~~~, any info string), and
 * only those whose first non-empty line is `#preview-config`; blocks inside
 * an HTML comment are ignored, as GitHub does not render them either.
 */
export const CONFIG_MARKER = '#preview-config';

export interface ConfigBlock {
  /** 1-based line of the opening fence in the PR body. */
  fenceLine: number;
  /** 1-based line in the PR body of `lines[0]`. */
  firstLine: number;
  /** The block's content with the fence's own indentation removed. */
  lines: string[];
  /** False when the description ends before the closing fence. */
  closed: boolean;
}

interface OpenFence {
  char: '`' | '~';
  length: number;
  indent: number;
  fenceLine: number;
  lines: string[];
}

const FENCE_OPEN = /^( *)(`{3,}|~{3,})(.*)$/;

/** The body's lines, for quoting: CRLF, LF and lone CR all end a line. */
export function bodyLines(body: string): string[] {
  return body.split(/\r\n|\n|\r/);
}

export function findConfigBlocks(body: string): ConfigBlock[] {
  return scanBody(body).blocks;
}

/**
 * 1-based lines where `#preview-config` is written outside any code fence
 * (and outside HTML comments): GitHub renders it as a heading and the
 * policy ignores it, which the author should be told.
 */
export function findStrayMarkers(body: string): number[] {
  return scanBody(body).stray;
}

function scanBody(body: string): { blocks: ConfigBlock[]; stray: number[] } {
  const rows = bodyLines(body);
  const found: ConfigBlock[] = [];
  const stray: number[] = [];
  let fence: OpenFence | null = null;
  let inComment = false;

  const finish = (open: OpenFence, closed: boolean) => {
    const firstContent = open.lines.find((line) => line.trim() !== '');
    if (firstContent?.trim() === CONFIG_MARKER) {
      found.push({ fenceLine: open.fenceLine, firstLine: open.fenceLine + 1, lines: open.lines, closed });
    }
  };

  rows.forEach((row, index) => {
    const lineNo = index + 1;
    if (fence) {
      if (closesFence(row, fence)) {
        finish(fence, true);
        fence = null;
      } else {
        fence.lines.push(stripIndent(row, fence.indent));
      }
      return;
    }
    if (inComment) {
      if (row.includes('-->')) inComment = false;
      return;
    }
    const open = openingFence(row, lineNo);
    if (open) {
      fence = open;
      return;
    }
    const visible = row.replace(/<!--.*?-->/g, '').split('<!--')[0]!;
    if (visible.trim().replace(/^>\s*/, '').toLowerCase().startsWith(CONFIG_MARKER)) stray.push(lineNo);
    inComment = row.lastIndexOf('<!--') > row.lastIndexOf('-->');
  });
  if (fence) finish(fence, false);
  return { blocks: found, stray };
}

function openingFence(row: string, lineNo: number): OpenFence | null {
  const match = FENCE_OPEN.exec(row);
  if (!match) return null;
  const marks = match[2]!;
  const info = match[3]!;
  const char = marks[0] as '`' | '~';
  // A backtick fence's info string may not contain backticks (that is inline code).
  if (char === '`' && info.includes('`')) return null;
  return { char, length: marks.length, indent: match[1]!.length, fenceLine: lineNo, lines: [] };
}

function closesFence(row: string, fence: OpenFence): boolean {
  const trimmed = row.trim();
  if (row.length - row.trimStart().length > 3 + fence.indent) return false;
  const run = /^(`+|~+)$/.exec(trimmed);
  return run !== null && run[1]![0] === fence.char && run[1]!.length >= fence.length;
}

function stripIndent(row: string, indent: number): string {
  let i = 0;
  while (i < indent && row[i] === ' ') i++;
  return row.slice(i);
}
