/**
 * Where the PR description comes from: a file, stdin (`-`), or the event
 * payload GitHub Actions writes to GITHUB_EVENT_PATH. An empty description
 * (GitHub sends `null`) is a description without a config block.
 */
import { readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { ExitCode, UserError } from '../errors.js';

export interface PrBodySource {
  /** A file path, `-` for stdin, or undefined for GITHUB_EVENT_PATH. */
  prBody?: string;
  env?: NodeJS.ProcessEnv;
  stdin?: Readable;
}

export async function readPrBody(source: PrBodySource): Promise<string> {
  const env = source.env ?? process.env;
  if (source.prBody === '-') return readAll(source.stdin ?? process.stdin);
  if (source.prBody !== undefined) return readText(source.prBody, '--pr-body');
  const eventPath = env.GITHUB_EVENT_PATH;
  if (!eventPath) {
    throw new UserError('no PR description: --pr-body was not given and GITHUB_EVENT_PATH is not set', {
      hint: 'pass --pr-body FILE (or - for stdin), or run it in a pull_request workflow',
      exitCode: ExitCode.usage,
    });
  }
  return prBodyFromEvent(await readText(eventPath, 'GITHUB_EVENT_PATH'), eventPath);
}

export function prBodyFromEvent(eventJson: string, eventPath: string): string {
  let event: unknown;
  try {
    event = JSON.parse(eventJson);
  } catch (error) {
    throw new UserError(`${eventPath} (GITHUB_EVENT_PATH) is not JSON: ${(error as Error).message}`, { exitCode: ExitCode.usage });
  }
  const pullRequest = (event as { pull_request?: unknown } | null)?.pull_request;
  if (typeof pullRequest !== 'object' || pullRequest === null) {
    throw new UserError(`${eventPath} (GITHUB_EVENT_PATH) is not a pull_request event`, {
      hint: 'run this step on pull_request events, or pass --pr-body FILE',
      exitCode: ExitCode.usage,
    });
  }
  const body = (pullRequest as { body?: unknown }).body;
  return typeof body === 'string' ? body : '';
}

async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new UserError(`cannot read ${what} ${path}: ${(error as Error).message}`, { exitCode: ExitCode.usage, cause: error });
  }
}

async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}
