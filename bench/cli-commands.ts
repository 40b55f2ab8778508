/**
 * How the memory check runs `anonymize` and `restore`: through the real
 * CLI when it has the command, otherwise through a stand-in in
 * bench/children that calls the same runtime function.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { NodeCommand } from './peak-rss.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TSX = ['--import', 'tsx'];
const CLI = 'runtime/cli/main.ts';

export const projectRoot = ROOT;

function cliHas(command: string): boolean {
  const result = spawnSync(process.execPath, [...TSX, CLI, command, '--help'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  // An unknown command with --help prints the root help and exits 0, so look at what was printed.
  return result.status === 0 && result.stdout.startsWith(`Usage: syrf-db ${command} `);
}

export interface CommandChoice {
  via: 'cli' | 'stand-in';
  build: (...args: string[]) => NodeCommand;
}

export function anonymizeCommand(): CommandChoice {
  if (cliHas('anonymize')) {
    return {
      via: 'cli',
      build: (rules, input, output) => ({ nodeOptions: TSX, argv: [CLI, '--quiet', 'anonymize', '--rules', rules!, '--input', input!, '--output', output!, '--gzip'] }),
    };
  }
  return { via: 'stand-in', build: (rules, input, output) => ({ nodeOptions: TSX, argv: ['bench/children/anonymize.ts', rules!, input!, output!] }) };
}

export function restoreCommand(): CommandChoice {
  if (cliHas('restore')) {
    return {
      via: 'cli',
      build: (store, snapshot, uri, target) => ({
        nodeOptions: TSX,
        argv: [CLI, '--quiet', 'restore', '--from', store!, '--snapshot', snapshot!, '--uri', uri!, '--target', target!],
      }),
    };
  }
  return { via: 'stand-in', build: (store, snapshot, uri, target) => ({ nodeOptions: TSX, argv: ['bench/children/restore.ts', store!, snapshot!, uri!, target!] }) };
}
