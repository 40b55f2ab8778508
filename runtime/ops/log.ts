/**
 * Logging for long-running commands. Human format writes short lines to
 * stderr; json format writes one JSON object per line (the default in jobs),
 * so log shippers can parse it. stdout stays reserved for command output.
 */
import { redactSecrets, redactValue } from './redact.js';

export type LogFormat = 'text' | 'json';
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** Progress lines are throttled by the caller; in text mode they are plain info lines. */
  progress(msg: string, fields?: Record<string, unknown>): void;
}

export interface LoggerOptions {
  format: LogFormat;
  quiet?: boolean;
  verbose?: boolean;
  write?: (line: string) => void;
  now?: () => Date;
}

export function createLogger(options: LoggerOptions): Logger {
  const write = options.write ?? ((line: string) => process.stderr.write(line + '\n'));
  const now = options.now ?? (() => new Date());
  const emit = (level: LogLevel | 'progress', rawMsg: string, rawFields: Record<string, unknown> = {}) => {
    if (level === 'debug' && !options.verbose) return;
    if (options.quiet && (level === 'info' || level === 'progress' || level === 'debug')) return;
    // Every line passes the one redaction: a URI or error message in a log never carries a password.
    const msg = redactSecrets(rawMsg);
    const fields = redactValue(rawFields);
    if (options.format === 'json') {
      write(JSON.stringify({ time: now().toISOString(), level, msg, ...fields }, jsonSafe));
      return;
    }
    const extras = Object.entries(fields)
      .map(([key, value]) => `${key}=${formatValue(value)}`)
      .join(' ');
    const prefix = level === 'warn' ? 'warning: ' : level === 'error' ? 'error: ' : '';
    write(`${prefix}${msg}${extras ? ' ' + extras : ''}`);
  };
  return {
    debug: (msg, fields) => emit('debug', msg, fields),
    info: (msg, fields) => emit('info', msg, fields),
    warn: (msg, fields) => emit('warn', msg, fields),
    error: (msg, fields) => emit('error', msg, fields),
    progress: (msg, fields) => emit('progress', msg, fields),
  };
}

export const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  progress: () => {},
};

function jsonSafe(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

function formatValue(value: unknown): string {
  if (typeof value === 'string') return /\s/.test(value) ? JSON.stringify(value) : value;
  return JSON.stringify(value, jsonSafe) ?? String(value);
}

/** Calls `fn` at most once per `intervalMs`, plus once more when flushed. */
export function throttle(intervalMs: number, fn: () => void): { tick(): void; flush(): void } {
  let last = 0;
  let pending = false;
  return {
    tick() {
      const t = Date.now();
      if (t - last >= intervalMs) {
        last = t;
        pending = false;
        fn();
      } else {
        pending = true;
      }
    },
    flush() {
      if (pending) fn();
      pending = false;
    },
  };
}
