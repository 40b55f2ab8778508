import type { Command } from 'commander';
import { createLogger, type LogFormat, type Logger } from '../ops/log.js';
import { ExitCode, UserError, isUserError } from '../errors.js';

export interface GlobalOptions {
  logFormat?: string;
  quiet?: boolean;
  verbose?: boolean;
}

/** Options shared by every command, read from the root program. */
export function loggerFor(command: Command): Logger {
  const globals = rootOf(command).opts<GlobalOptions>();
  return createLogger({ format: resolveLogFormat(globals.logFormat), quiet: globals.quiet, verbose: globals.verbose });
}

export function resolveLogFormat(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): LogFormat {
  const value = explicit ?? env.SYRF_LOG_FORMAT ?? (env.KUBERNETES_SERVICE_HOST ? 'json' : 'text');
  if (value !== 'text' && value !== 'json') {
    throw new Error(`--log-format must be "text" or "json", got "${value}"`);
  }
  return value;
}

function rootOf(command: Command): Command {
  let current = command;
  while (current.parent) current = current.parent;
  return current;
}

/** Prints an error the way every command does and returns the exit code. */
export function reportFatal(error: unknown, write: (s: string) => void = (s) => process.stderr.write(s)): number {
  if (isUserError(error)) {
    write(`error: ${error.message}\n`);
    if (error.hint) write(`  what to do: ${error.hint}\n`);
    return error.exitCode;
  }
  const err = error instanceof Error ? error : new Error(String(error));
  write(`error: unexpected failure: ${err.message}\n${err.stack ?? ''}\n`);
  return ExitCode.failure;
}

/** Splits "a,b c" style lists given on the command line. */
export function parseList(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  return value
    .split(/[,\s]+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/** --uri, else $MONGO_URI (how jobs pass it, so the password stays out of argv). */
export function mongoUriOption(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const uri = explicit ?? env.MONGO_URI;
  if (!uri) throw new UserError('no MongoDB URI given', { hint: 'pass --uri or set MONGO_URI', exitCode: ExitCode.usage });
  return uri;
}
