/**
 * The last word on where a restore or clone may write. Every rule here is
 * checked before the first byte reaches a database, and no flag can turn
 * the production refusals off: a name configured as production, or the
 * database the data came from, is refused even when an allowlist matches it.
 */
import { PREVIEW_DATABASE_PATTERN, PROD_DATABASE, STAGING_CONFIRMATION, STAGING_DATABASE } from '../contract/databases.js';
import { ExitCode, UserError } from '../errors.js';

export { STAGING_CONFIRMATION };
export const STAGING_DB = STAGING_DATABASE;
/** Exactly the staging database, as a pattern beside the preview one. */
export const STAGING_DATABASE_PATTERN = new RegExp(`^${STAGING_DATABASE}$`);

/**
 * Preview databases and staging; everything else is refused unless a caller widens the list.
 * The preview pattern is the contract's, so the guard accepts exactly the names infra creates
 * (no `syrf_pr_0`, no `syrf_pr_007`).
 */
export const DEFAULT_TARGET_ALLOWLIST: readonly RegExp[] = [PREVIEW_DATABASE_PATTERN, STAGING_DATABASE_PATTERN];

/** Always treated as production, whatever SYRF_PRODUCTION_DBS says. */
export const BUILTIN_PRODUCTION_DBS: readonly string[] = [PROD_DATABASE];

/** MongoDB refuses these in database names on at least one platform; refusing them everywhere keeps names portable. */
const FORBIDDEN_DB_NAME_CHARS = /[/\\. "$*<>:|?\0]/;
const MAX_DB_NAME_BYTES = 63;

export interface RestoreTargetCheck {
  target: string;
  /** The database the data was read from (a snapshot's `source.db`, or a clone's `--from`). */
  sourceDb: string;
  /** Replaces the default allowlist; production names stay refused regardless. */
  allowlist?: readonly RegExp[];
  /** Defaults to SYRF_PRODUCTION_DBS; `syrftest` is always included. */
  productionNames?: readonly string[];
  /** Must be `refresh-staging` to write into syrf_staging. */
  confirm?: string;
}

/** Throws a UserError (exit code `refused`, or `usage` for an impossible name) unless `target` may be written. */
export function checkRestoreTarget(check: RestoreTargetCheck): void {
  const { target, sourceDb } = check;
  assertValidDatabaseName(target);

  const production = productionSet(check.productionNames ?? productionNamesFromEnv());
  // MongoDB database names are unique without regard to case, so `SyrfTest` is `syrftest`.
  if (production.has(target.toLowerCase())) {
    throw refused(`refusing to write into "${target}": it is a production database`, 'restores and clones only write preview (syrf_pr_<N>) and staging databases; production is never a target');
  }
  if (sourceDb && target.toLowerCase() === sourceDb.toLowerCase()) {
    throw refused(
      `refusing to write into "${target}": it is the database this data was read from`,
      'choose a different --target; a restore never overwrites its own source',
    );
  }
  const allowlist = check.allowlist ?? DEFAULT_TARGET_ALLOWLIST;
  if (!allowlist.some((pattern) => matchesWhole(pattern, target))) {
    throw refused(
      `refusing to write into "${target}": it matches none of the allowed target patterns (${allowlist.map((p) => p.source).join(', ')})`,
      'use a preview database (syrf_pr_<N>) or syrf_staging as --target',
    );
  }
  if (target === STAGING_DB && check.confirm !== STAGING_CONFIRMATION) {
    throw refused(
      `refusing to overwrite ${STAGING_DB} without confirmation`,
      `re-run with --confirm ${STAGING_CONFIRMATION} if you mean to replace the staging data`,
    );
  }
}

export interface AnonymizationRequirement {
  /** The manifest's `anonymization.anonymized`. */
  manifestAnonymized: boolean;
  /** Rules were given and the HMAC key was found, so the stream can be pseudonymized on the way in. */
  haveRulesAndKey: boolean;
}

/** A raw snapshot may only be restored by pseudonymizing it in the stream. */
export function checkAnonymizationRequirement(requirement: AnonymizationRequirement): void {
  if (requirement.manifestAnonymized || requirement.haveRulesAndKey) return;
  throw refused(
    'refusing to restore a snapshot that is not anonymized (its manifest says anonymized: false)',
    'restore an anonymized snapshot, or pass --rules FILE with the anonymization key (SYRF_ANONYMIZATION_KEY or --key-file) so it is pseudonymized while it is restored',
  );
}

/**
 * `SYRF_PRODUCTION_DBS=a,b` adds names to the built-in `syrftest`. Commas,
 * semicolons and any whitespace all separate names: a list written `a;b` or
 * one per line must protect each database, never none.
 */
export function productionNamesFromEnv(env: NodeJS.ProcessEnv = process.env): string[] {
  const extra = (env.SYRF_PRODUCTION_DBS ?? '')
    .split(/[\s,;]+/)
    .map((name) => name.trim())
    .filter(Boolean);
  return [...new Set([...BUILTIN_PRODUCTION_DBS, ...extra])];
}

export function assertValidDatabaseName(name: string): void {
  const problem = databaseNameProblem(name);
  if (problem) {
    throw new UserError(`"${name}" is not a valid database name: ${problem}`, {
      hint: 'use a name such as syrf_pr_123 (letters, digits and underscores)',
      exitCode: ExitCode.usage,
    });
  }
}

function databaseNameProblem(name: string): string | null {
  if (name === '') return 'it is empty';
  const bad = FORBIDDEN_DB_NAME_CHARS.exec(name);
  if (bad) return `it contains ${JSON.stringify(bad[0])}, which MongoDB does not allow (forbidden: / \\ . space " $ * < > : | ?)`;
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes > MAX_DB_NAME_BYTES) return `it is ${bytes} bytes long; MongoDB allows at most ${MAX_DB_NAME_BYTES}`;
  return null;
}

function productionSet(names: readonly string[]): Set<string> {
  return new Set([...BUILTIN_PRODUCTION_DBS, ...names].map((name) => name.toLowerCase()));
}

/** Allowlist entries are meant as whole-name patterns; an unanchored one must not match a substring. */
function matchesWhole(pattern: RegExp, name: string): boolean {
  return new RegExp(`^(?:${pattern.source})$`, pattern.flags.replace(/[gym]/g, '')).test(name);
}

function refused(message: string, hint: string): UserError {
  return new UserError(message, { hint, exitCode: ExitCode.refused });
}
