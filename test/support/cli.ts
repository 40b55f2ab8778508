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
    env: { ...process.env, SYRF_LOG_FORMAT: 'text', ...options.env },
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
 * SIGKILLs `child` as soon as `ready()` says it is mid-work (polled every
 * few ms). Resolves true once the killed child has exited, false if it
 * finished on its own first.
 */
export function killWhen(child: ChildProcess, ready: () => Promise<boolean>, pollMs = 5): Promise<boolean> {
  return new Promise((resolve) => {
    let killed = false;
    const timer = setInterval(() => {
      void ready().then((now) => {
        if (now && !killed) {
          killed = true;
          clearInterval(timer);
          child.kill('SIGKILL');
        }
      }, () => undefined);
    }, pollMs);
    child.once('exit', () => {
      clearInterval(timer);
      resolve(killed);
    });
  });
}
