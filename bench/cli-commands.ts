/**
 * How the memory check runs `anonymize` and `restore`: through the real
 * CLI, compiled as it ships (`tsc` into a cache directory, run with plain
 * `node`; tsx alone would add ~35 MiB of loader to every number), or, when
 * the CLI lacks a command, through a stand-in in bench/children that calls
 * the same runtime function under tsx.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NodeCommand } from './peak-rss.js';

export const projectRoot = fileURLToPath(new URL('..', import.meta.url));
const TSX = ['--import', 'tsx'];
/** Inside node_modules so the compiled files resolve the project's packages. */
const BUILD_DIR = join(projectRoot, 'node_modules/.cache/syrf-db-bench/dist');

export interface Cli {
  /** How the numbers were taken, for the report. */
  label: string;
  nodeOptions: string[];
  main: string;
}

/** Compiles runtime/ with the project's build config; falls back to tsx when that produces nothing. */
export function compiledCli(): Cli {
  // tsc exits non-zero on type errors elsewhere but still emits; what matters is that the entry point exists.
  spawnSync(process.execPath, [join(projectRoot, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', BUILD_DIR], {
    cwd: projectRoot,
    stdio: 'ignore',
  });
  const main = join(BUILD_DIR, 'runtime/cli/main.js');
  if (existsSync(main)) return { label: 'compiled CLI', nodeOptions: [], main };
  return { label: 'CLI under tsx', nodeOptions: TSX, main: 'runtime/cli/main.ts' };
}

function cliHas(cli: Cli, command: string): boolean {
  const result = spawnSync(process.execPath, [...cli.nodeOptions, cli.main, command, '--help'], { cwd: projectRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  // An unknown command with --help prints the root help and exits 0, so look at what was printed.
  return result.status === 0 && result.stdout.startsWith(`Usage: syrf-db ${command} `);
}

export interface CommandChoice {
  via: string;
  build: (...args: string[]) => NodeCommand;
}

export function anonymizeCommand(cli: Cli): CommandChoice {
  if (cliHas(cli, 'anonymize')) {
    return {
      via: cli.label,
      build: (rules, input, output) => ({ nodeOptions: cli.nodeOptions, argv: [cli.main, '--quiet', 'anonymize', '--rules', rules!, '--input', input!, '--output', output!, '--gzip'] }),
    };
  }
  return { via: 'stand-in', build: (rules, input, output) => ({ nodeOptions: TSX, argv: ['bench/children/anonymize.ts', rules!, input!, output!] }) };
}

export function restoreCommand(cli: Cli): CommandChoice {
  if (cliHas(cli, 'restore')) {
    return {
      via: cli.label,
      build: (store, snapshot, uri, target) => ({
        nodeOptions: cli.nodeOptions,
        argv: [cli.main, '--quiet', 'restore', '--from', store!, '--snapshot', snapshot!, '--uri', uri!, '--target', target!],
      }),
    };
  }
  return { via: 'stand-in', build: (store, snapshot, uri, target) => ({ nodeOptions: TSX, argv: ['bench/children/restore.ts', store!, snapshot!, uri!, target!] }) };
}
