/**
 * A throwaway project with one planted import cycle (through `.js`
 * specifiers, as our sources write them) and one planted duplicated block, so
 * the shape check can prove on every run that its tools still see both.
 */
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const PLANTED_MIN_LINES = 11;

export function plantProject(): string {
  const dir = mkdtempSync(join(tmpdir(), 'syrf-shape-'));
  mkdirSync(join(dir, 'src', 'inner'), { recursive: true });
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true } }));
  writeFileSync(join(dir, 'src', 'a.ts'), "import { b } from './inner/b.js';\nexport const a = (): number => b() + 1;\n");
  writeFileSync(join(dir, 'src', 'inner', 'b.ts'), "import type { Shape } from '../c.js';\nexport const b = (): number => 2;\nexport type { Shape };\n");
  writeFileSync(join(dir, 'src', 'c.ts'), "import { a } from './a.js';\nexport interface Shape { n: number }\nexport const c = a;\n");
  const block = Array.from({ length: PLANTED_MIN_LINES + 1 }, (_, i) => `  total += values[${i}] ?? ${i} * factor;`).join('\n');
  for (const name of ['d', 'e']) {
    writeFileSync(join(dir, 'src', `${name}.ts`), `export function ${name}(values: number[], factor: number): number {\n  let total = 0;\n${block}\n  return total;\n}\n`);
  }
  return dir;
}
