import type { Command } from 'commander';
import { createLogger, type LogFormat, type Logger } from '../ops/log.js';
import { ExitCode, UserError, isUserError } from '../errors.js';
import { redactSecrets } from '../ops/redact.js';
import type { GlobalOptions } from './options.js';

/** Options shared by every command, read from the root program. */
export function loggerFor(command: Command): Logger {
  const globals = rootOf(command).opts<GlobalOptions>();
  return createLogger({ format: resolveLogFormat(globals.logFormat), quiet: globals.quiet, verbose: globals.verbose });
}

export function resolveLogFormat(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): LogFormat {
  const value = explicit ?? env.SYRF_LOG_FORMAT ?? (env.KUBERNETES_SERVICE_HOST ? 'json' : 'text');
  if (value !== 'text' && value !== 'json') {
    throw new UserError(`--log-format must be "text" or "json", got "${value}"`, { exitCode: ExitCode.usage });
  }
  return value;
}

function rootOf(command: Command): Command {
  let current = command;
  while (current.parent) current = current.parent;
  return current;
}

/** Prints an error the way every command does and returns the exit code. Nothing printed escapes the redaction. */
export function reportFatal(error: unknown, write: (s: string) => void = (s) => process.stderr.write(s)): number {
  const out = (text: string) => write(redactSecrets(text));
  if (isUserError(error)) {
    out(`error: ${error.message}\n`);
    if (error.hint) out(`  what to do: ${error.hint}\n`);
    return error.exitCode;
  }
  const err = error instanceof Error ? error : new Error(String(error));
  const known = knownSystemError(err);
  if (known) {
    out(`error: ${known.message}\n  what to do: ${known.hint}\n`);
    return ExitCode.failure;
  }
  out(`error: unexpected failure: ${err.message}\n${err.stack ?? ''}\n`);
  return ExitCode.failure;
}

/** Operating-system failures any command can meet, said plainly instead of with a stack. */
function knownSystemError(error: Error): { message: string; hint: string } | null {
  const code = (error as NodeJS.ErrnoException).code;
  const path = (error as NodeJS.ErrnoException).path;
  const where = path ? ` (${path})` : '';
  switch (code) {
    case 'ENOSPC':
      return { message: `the disk is full${where}: ${error.message}`, hint: 'free space, or point --work-dir / --output at a larger volume, then re-run' };
    case 'ENOENT':
      return { message: `a file or directory does not exist${where}: ${error.message}`, hint: 'check the path; output directories must exist' };
    case 'EACCES':
    case 'EPERM':
      return { message: `permission denied${where}: ${error.message}`, hint: 'check the file permissions or run as a user who may write there' };
    case 'EROFS':
      return { message: `the file system is read-only${where}: ${error.message}`, hint: 'write to a writable volume' };
    case 'EMFILE':
    case 'ENFILE':
      return { message: `too many open files: ${error.message}`, hint: 'raise the open-file limit (ulimit -n) or lower --parallel' };
    default:
      return null;
  }
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
