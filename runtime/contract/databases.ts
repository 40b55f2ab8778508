/**
 * Database names the runtime's target guard, the Pulumi program, the policy pack and
 * the workflows must agree on. A PR number is a positive integer written without
 * leading zeros, so `syrf_pr_0` or `syrf_pr_007` name no PR and are never produced.
 */

/** The production database: read by the producer, never written by anything. */
export const PROD_DATABASE = 'syrftest';
export const STAGING_DATABASE = 'syrf_staging';

export const PREVIEW_DATABASE_PREFIX = 'syrf_pr_';
export const PREVIEW_DATABASE_PATTERN = /^syrf_pr_([1-9]\d{0,9})$/;

/** The word that must accompany every write into syrf_staging. */
export const STAGING_CONFIRMATION = 'refresh-staging';

export function previewDatabase(prNumber: number): string {
  if (!Number.isSafeInteger(prNumber) || prNumber < 1) throw new RangeError(`not a PR number: ${prNumber}`);
  return `${PREVIEW_DATABASE_PREFIX}${prNumber}`;
}

/** The PR a preview database belongs to, or undefined for any other name. */
export function prNumberOfDatabase(name: string): number | undefined {
  const match = PREVIEW_DATABASE_PATTERN.exec(name);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}
