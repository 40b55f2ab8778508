import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { findCycles, findDuplicates, relativeImports } from '../../../scripts/shape/checks.js';
import { PLANTED_MIN_LINES, plantProject } from '../../../scripts/shape/planted.js';

describe('the shape check (npm run check:shape)', () => {
  let dir: string | null = null;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = null;
  });

  it('finds a cycle written with .js specifiers for .ts files, through a type-only import and a subdirectory', async () => {
    dir = plantProject();
    const report = await findCycles(dir, ['src'], 'tsconfig.json');
    expect(report.unresolved).toEqual([]);
    expect(report.cycles).toHaveLength(1);
    expect([...report.cycles[0]!].sort()).toEqual(['src/a.ts', 'src/c.ts', 'src/inner/b.ts']);
  });

  it('reports no cycle once the cycle is broken, and still sees every import', async () => {
    dir = plantProject();
    writeFileSync(join(dir, 'src', 'c.ts'), 'export interface Shape { n: number }\nexport const c = 3;\n');
    const report = await findCycles(dir, ['src'], 'tsconfig.json');
    expect(report.cycles).toEqual([]);
    expect(report.unresolved).toEqual([]);
    expect(report.edges).toBe(2);
  });

  it('fails loudly when an import it should see is not in the graph', async () => {
    dir = plantProject();
    writeFileSync(join(dir, 'src', 'c.ts'), "import { a } from './missing.js';\nexport const c = a;\n");
    const report = await findCycles(dir, ['src'], 'tsconfig.json');
    expect(report.unresolved.join('\n')).toContain('src/c.ts imports ./missing.js');
  });

  it('finds a duplicated block longer than the limit, and none once one copy is gone', async () => {
    dir = plantProject();
    const found = await findDuplicates(dir, ['src'], PLANTED_MIN_LINES);
    expect(found).toHaveLength(1);
    expect(found[0]!.lines).toBeGreaterThanOrEqual(PLANTED_MIN_LINES);
    rmSync(join(dir, 'src', 'e.ts'));
    expect(await findDuplicates(dir, ['src'], PLANTED_MIN_LINES)).toEqual([]);
  });

  it('reads static imports and re-exports, multi-line ones included, and nothing else', () => {
    const source = [
      "import { a } from './a.js';",
      'import {',
      '  b,',
      "} from '../b.js';",
      "import type { C } from './c.js';",
      "export { d } from './d.js';",
      "import './side-effect.js';",
      "import { e } from 'bson';",
      "const f = await import('./dynamic.js');",
      "// import { g } from './comment.js';",
    ].join('\n');
    expect(relativeImports(source)).toEqual(['./a.js', '../b.js', './c.js', './d.js', './side-effect.js']);
  });
});
