import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..', '..');

/** The directories README's Layout block lists under `parent/` (indented entries ending in `/`). */
function listedUnder(parent: string): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const block = /## Layout\s+```\n([\s\S]*?)```/.exec(readme)?.[1];
  if (!block) throw new Error('README has no Layout code block');
  const lines = block.split('\n');
  const start = lines.findIndex((line) => line.startsWith(`${parent}/`));
  const listed: string[] = [];
  for (const line of lines.slice(start + 1)) {
    const entry = /^ {2}(\S+)\/\s/.exec(line);
    if (!entry) break;
    listed.push(entry[1]!);
  }
  return listed;
}

function directoriesOf(parent: string): string[] {
  return readdirSync(join(ROOT, parent)).filter((name) => statSync(join(ROOT, parent, name)).isDirectory()).sort();
}

describe("README's layout section", () => {
  it('lists every directory of runtime/, and only those', () => {
    expect(listedUnder('runtime').sort()).toEqual(directoriesOf('runtime'));
  });
});
