/**
 * Peak resident memory of a child process: from `/usr/bin/time -v` when it
 * exists, otherwise from a preload module that reports the child's own
 * `process.resourceUsage().maxRSS` when it exits.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const GNU_TIME = '/usr/bin/time';
const REPORTER = fileURLToPath(new URL('./children/report-max-rss.ts', import.meta.url));

export interface PeakRss {
  maxRssMiB: number;
  seconds: number;
  method: 'time -v' | 'resourceUsage';
}

function hasGnuTime(): boolean {
  try {
    accessSync(GNU_TIME, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The child's own complaint: its `error:` line if it printed one, else its last line, without GNU time's report. */
export function childError(stderr: string): string {
  const own = stderr.split(/^(?:Command exited with non-zero status|\tCommand being timed)/m)[0] ?? '';
  const lines = own.split('\n').map((line) => line.trim()).filter(Boolean);
  return lines.find((line) => line.startsWith('error:')) ?? lines.at(-1) ?? 'no output';
}

/** Parses GNU time's "Maximum resident set size (kbytes): N" line. */
export function parseGnuTimeMaxRss(stderr: string): number | undefined {
  const match = /Maximum resident set size \(kbytes\):\s*(\d+)/.exec(stderr);
  return match ? Number(match[1]) / 1024 : undefined;
}

export interface NodeCommand {
  /** Node options such as `--import tsx`; the reporter is preloaded after them. */
  nodeOptions: string[];
  /** The script and its arguments. */
  argv: string[];
}

/** Runs `node` to completion and reports its peak RSS; throws with its stderr when it fails. */
export async function measurePeakRss(command: NodeCommand, env: NodeJS.ProcessEnv, cwd: string): Promise<PeakRss> {
  const useTime = hasGnuTime();
  const rssFile = join(tmpdir(), `syrf-bench-rss-${process.pid}-${Date.now()}.json`);
  const nodeArgs = useTime ? [...command.nodeOptions, ...command.argv] : [...command.nodeOptions, '--import', REPORTER, ...command.argv];
  const executable = useTime ? GNU_TIME : process.execPath;
  const args = useTime ? ['-v', process.execPath, ...nodeArgs] : nodeArgs;
  const start = process.hrtime.bigint();
  const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
    const child = spawn(executable, args, { cwd, env: { ...env, SYRF_BENCH_RSS_FILE: rssFile }, stdio: ['ignore', 'ignore', 'pipe'] });
    let text = '';
    child.stderr.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (text.length > 1 << 20) text = text.slice(-(1 << 19));
    });
    child.on('error', reject);
    child.on('close', (exitCode) => resolve({ code: exitCode, stderr: text }));
  });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (code !== 0) throw new Error(`exited with ${code}: ${childError(stderr)}\n(node ${nodeArgs.join(' ')})`);
  if (useTime) {
    const maxRssMiB = parseGnuTimeMaxRss(stderr);
    if (maxRssMiB === undefined) throw new Error(`no "Maximum resident set size" in the output of time -v:\n${stderr.slice(-2000)}`);
    return { maxRssMiB, seconds, method: 'time -v' };
  }
  try {
    const report = JSON.parse(await readFile(rssFile, 'utf8')) as { maxRssKiB: number };
    return { maxRssMiB: report.maxRssKiB / 1024, seconds, method: 'resourceUsage' };
  } finally {
    await rm(rssFile, { force: true });
  }
}
