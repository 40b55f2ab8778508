/** Runs the real CLI from its TypeScript sources in a child process, as a user would. */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cliEntry = join(repoRoot, 'runtime', 'cli', 'main.ts');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  env?: Record<string, string | undefined>;
  input?: string | Buffer;
  cwd?: string;
}

export function spawnCli(args: string[], options: CliOptions = {}): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', cliEntry, ...args], {
    cwd: options.cwd ?? repoRoot,
    // Test snapshots are unsigned unless a test brings a key; production refuses that without this flag.
    env: { ...process.env, SYRF_LOG_FORMAT: 'text', SYRF_ALLOW_UNSIGNED_MANIFEST: 'development', ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  const child = spawnCli(args, options);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin?.end(options.input ?? '');
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

export { repoRoot };

/**
 * Runs the CLI with a fault injected at a named pipeline point
 * (`SYRF_FAULT`, see runtime/util/fault.ts): the process stops itself
 * exactly there, so a kill test cannot pass by the process finishing first.
 */
export function runCliWithFault(args: string[], fault: string, options: CliOptions = {}): Promise<CliResult> {
  return runCli(args, { ...options, env: { ...options.env, SYRF_FAULT: fault } });
}

/** True when the run ended by the injected SIGKILL (not by finishing, and not by an error). */
export function killedByFault(result: CliResult): boolean {
  return result.signal === 'SIGKILL' && /injected fault: kill at /.test(result.stderr);
}
