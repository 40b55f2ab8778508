/**
 * `npm run check:shape`: fails on any import cycle in runtime/ and infra/ and
 * on any duplicated block of more than 10 lines in runtime/. Before trusting
 * a clean result it runs both tools on a planted cycle and a planted
 * duplicate: a checker that silently sees nothing proves nothing.
 */
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findCycles, findDuplicates } from './shape/checks.js';
import { PLANTED_MIN_LINES, plantProject } from './shape/planted.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CYCLE_ROOTS = ['runtime', 'infra'];
const DUPLICATE_ROOTS = ['runtime'];
/** "More than 10 lines" is a duplicate. */
const MIN_DUPLICATE_LINES = 11;

async function selfCheck(): Promise<string[]> {
  const dir = plantProject();
  try {
    const problems: string[] = [];
    const cycles = await findCycles(dir, ['src'], 'tsconfig.json');
    if (cycles.cycles.length !== 1 || cycles.unresolved.length > 0) {
      problems.push(`self-check: the planted cycle a → b → c → a was not found (cycles: ${JSON.stringify(cycles.cycles)}, unresolved: ${cycles.unresolved.join('; ')})`);
    }
    const duplicates = await findDuplicates(dir, ['src'], PLANTED_MIN_LINES);
    if (duplicates.length === 0) problems.push('self-check: the planted duplicated block was not found');
    return problems;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<number> {
  const problems = await selfCheck();
  if (problems.length > 0) {
    for (const problem of problems) console.error(`error: ${problem}`);
    console.error('what to do: the cycle or duplicate detector no longer sees the code (a madge/jscpd upgrade or a config change); fix scripts/shape/ before trusting its result');
    return 2;
  }
  const cycles = await findCycles(ROOT, CYCLE_ROOTS, 'tsconfig.json');
  const duplicates = await findDuplicates(ROOT, DUPLICATE_ROOTS, MIN_DUPLICATE_LINES);
  console.log(`import graph of ${CYCLE_ROOTS.join(', ')}: ${cycles.files} files, ${cycles.edges} imports, ${cycles.cycles.length} cycle(s)`);
  for (const cycle of cycles.cycles) console.log(`  cycle: ${[...cycle, cycle[0]].join(' → ')}`);
  for (const line of cycles.unresolved) console.log(`  unresolved: ${line}`);
  console.log(`duplicated blocks of ${MIN_DUPLICATE_LINES}+ lines in ${DUPLICATE_ROOTS.join(', ')}: ${duplicates.length}`);
  for (const d of duplicates) console.log(`  ${d.lines} lines: ${d.first} = ${d.second}`);
  const failed = cycles.cycles.length > 0 || cycles.unresolved.length > 0 || duplicates.length > 0;
  console.log(failed ? 'shape check: FAILED' : 'shape check: ok');
  return failed ? 1 : 0;
}

process.exitCode = await main();
