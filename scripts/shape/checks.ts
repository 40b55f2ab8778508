/**
 * The two structural checks behind `npm run check:shape`: no import cycle
 * (madge) and no copy-pasted block (jscpd). Each also proves it saw the code:
 * the cycle check compares madge's edges with the relative imports written in
 * each file, so a resolver that silently drops `.js` specifiers (our sources
 * import `./x.js` for `./x.ts`) fails instead of reporting "no cycle".
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, normalize, relative } from 'node:path';
import madge from 'madge';

// jscpd's CommonJS build: its ESM entry reaches into package sources that tsx cannot load.
const { detectClones } = createRequire(import.meta.url)('jscpd') as typeof import('jscpd');

export interface CycleReport {
  files: number;
  edges: number;
  cycles: string[][];
  /** Relative imports written in a file that madge did not turn into an edge. */
  unresolved: string[];
}

/** Import cycles among the TypeScript files under `roots` (relative to `baseDir`). */
export async function findCycles(baseDir: string, roots: string[], tsConfig: string): Promise<CycleReport> {
  const result = await madge(roots.map((root) => join(baseDir, root)), { baseDir, fileExtensions: ['ts'], tsConfig: join(baseDir, tsConfig) });
  const graph = result.obj();
  const unresolved: string[] = [...result.warnings().skipped.map((file) => `skipped: ${file}`)];
  let edges = 0;
  for (const [file, deps] of Object.entries(graph)) {
    edges += deps.length;
    const seen = new Set(deps.map((dep) => normalize(dep)));
    for (const specifier of relativeImports(readFileSync(join(baseDir, file), 'utf8'))) {
      const target = normalize(join(dirname(file), specifier.replace(/\.js$/, '.ts')));
      if (!seen.has(target)) unresolved.push(`${file} imports ${specifier}, which the cycle check did not see`);
    }
  }
  return { files: Object.keys(graph).length, edges, cycles: result.circular(), unresolved };
}

/** Relative module specifiers of static imports and re-exports (`from './x.js'`, `import './x.js'`). */
export function relativeImports(source: string): string[] {
  const specifiers = new Set<string>();
  for (const match of source.matchAll(/^\s*(?:import|export)\s(?:[^;]*?\sfrom\s)?\s*['"](\.{1,2}\/[^'"]+\.(?:js|ts))['"]/gms)) specifiers.add(match[1]!);
  return [...specifiers];
}

export interface DuplicateBlock {
  lines: number;
  first: string;
  second: string;
}

/** Duplicated blocks of at least `minLines` lines among the TypeScript files under `roots`. */
export async function findDuplicates(baseDir: string, roots: string[], minLines: number): Promise<DuplicateBlock[]> {
  const clones = await detectClones({
    path: roots.map((root) => join(baseDir, root)),
    format: ['typescript'],
    minLines,
    silent: true,
    reporters: [],
    absolute: true,
  });
  const where = (file: { sourceId: string; start: { line: number }; end: { line: number } }) =>
    `${relative(baseDir, file.sourceId)}:${file.start.line}-${file.end.line}`;
  return clones.map((clone) => ({
    lines: clone.duplicationA.end.line - clone.duplicationA.start.line + 1,
    first: where(clone.duplicationA),
    second: where(clone.duplicationB),
  }));
}
