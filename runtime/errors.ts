/**
 * An error the user can act on: what went wrong and what to do about it.
 * The CLI prints these as one clear message and exits non-zero; anything
 * else is a bug and is printed with its stack.
 */
export class UserError extends Error {
  readonly hint: string | undefined;
  readonly exitCode: number;

  constructor(message: string, options: { hint?: string; exitCode?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'UserError';
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? 1;
  }
}

/** Exit codes shared by every command, so jobs and alerts can tell failures apart. */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  /** A safety check refused the operation (guard, anonymization, confirmation). */
  refused: 3,
  /** Input data is corrupt or does not match its checksum/manifest. */
  corrupt: 4,
  /** A check found problems (e.g. `rules check` found uncovered PII). */
  findings: 5,
} as const;

export function isUserError(error: unknown): error is UserError {
  return error instanceof UserError;
}
