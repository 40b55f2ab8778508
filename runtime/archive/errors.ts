import { ExitCode, UserError } from '../errors.js';

export interface ArchiveFormatErrorDetails {
  /** Byte offset in the uncompressed archive stream where the problem starts. */
  offset?: number;
  /** `db.collection` the problem belongs to, when known. */
  namespace?: string;
  /** Where the archive came from (file, URL), for the message. */
  source?: string;
  cause?: unknown;
}

const DEFAULT_HINT =
  'The archive is damaged, truncated or not a mongodump archive. Re-download or re-create it (verify its sha256 against the manifest), then retry.';

/** Input that is not a well-formed mongodump archive. */
export class ArchiveFormatError extends UserError {
  readonly offset: number | undefined;
  readonly namespace: string | undefined;
  /** The problem alone, without the location suffix. */
  readonly problem: string;

  constructor(problem: string, details: ArchiveFormatErrorDetails = {}) {
    super(describe(problem, details), { hint: DEFAULT_HINT, exitCode: ExitCode.corrupt, cause: details.cause });
    this.name = 'ArchiveFormatError';
    this.problem = problem;
    this.offset = details.offset;
    this.namespace = details.namespace;
  }
}

function describe(problem: string, { offset, namespace, source }: ArchiveFormatErrorDetails): string {
  const where: string[] = [];
  if (offset !== undefined) where.push(`at byte ${offset}`);
  if (namespace !== undefined) where.push(`in namespace ${namespace}`);
  if (source !== undefined) where.push(`of ${source}`);
  return `${problem}${where.length > 0 ? ` (${where.join(', ')})` : ''}`;
}
