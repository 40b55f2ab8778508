import { UserError } from '../errors.js';

/** A local-disk failure as one clear message, or undefined when `error` is not one. */
export function diskError(error: unknown, action: string): UserError | undefined {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  switch (code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return new UserError(`${action} failed: no space left on the device`, {
        hint: 'free space there, or point the command at a larger disk (e.g. --work-dir or --output elsewhere); nothing half-written was kept',
        cause: error,
      });
    case 'ENOENT':
      return new UserError(`${action} failed: the directory does not exist`, { hint: 'create the directory first, or choose an existing one', cause: error });
    case 'ENOTDIR':
      return new UserError(`${action} failed: a part of the path is not a directory`, { hint: 'check the path', cause: error });
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return new UserError(`${action} failed: permission denied (${code})`, { hint: 'choose a directory this job may write to', cause: error });
    default:
      return undefined;
  }
}
