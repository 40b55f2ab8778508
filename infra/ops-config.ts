import { z } from 'zod';
import type { IEnvVar } from 'kubernetes-models/v1/EnvVar';

/**
 * Stack configuration for the operational jobs (scheduled staging refresh,
 * restore drill, notifications, storage budget). Spread into the stack
 * schemas in config.ts, so these keys are validated with the rest.
 */

const cron = z.string().regex(/^(\S+\s+){4}\S+$/, 'must be a five-field cron expression');
const kubernetesName = z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a Kubernetes object name');

/** Environment variable the runtime reads the webhook URL from (runtime/ops/notify.ts). */
export const NOTIFY_WEBHOOK_ENV = 'SYRF_NOTIFY_WEBHOOK_URL';
/** Key holding the URL in the hand-made webhook Secret. */
export const NOTIFY_WEBHOOK_SECRET_KEY = 'url';

const notifyFields = {
  /** Name of a Secret (created by hand, never by Pulumi) whose `url` key holds the Slack-compatible webhook URL. */
  notifyWebhookSecret: kubernetesName.optional(),
};

export const prodOpsFields = {
  ...notifyFields,
  /** Exported beside the storage usage after prune; SyrfDbStorageOverBudget fires above it. */
  storageBudgetBytes: z.coerce.number().int().positive().optional(),
  /** Declares the restore drill's Google service account; its email output then goes into the staging stack's drillServiceAccountEmail. */
  restoreDrill: z.preprocess((v) => (v === 'true' ? true : v === 'false' ? false : v), z.boolean()).default(false),
};

export const stagingOpsFields = {
  ...notifyFields,
  /** Weekly by default, two hours after the 03:00 UTC daily snapshot. */
  stagingRefreshSchedule: cron.default('0 5 * * 0'),
  /** The scheduled refresh refuses a `latest` older than this. */
  stagingMaxSnapshotAgeHours: z.coerce.number().positive().max(24 * 30).default(48),
  /** Daily, after the snapshot (03:00) has had time to finish. */
  drillSchedule: cron.default('30 4 * * *'),
  /**
   * The prod stack's `drillServiceAccountEmail` output (after `restoreDrill: true` there). The
   * drill CronJob and its database user exist only once it is set: the drill needs that
   * identity to move latest.txt back after a failure.
   */
  drillServiceAccountEmail: z.email().optional(),
};

/** The webhook URL by reference; optional so a missing Secret never stops the job. */
export function notifyEnv(secretName: string | undefined): IEnvVar[] {
  if (secretName === undefined) return [];
  return [{ name: NOTIFY_WEBHOOK_ENV, valueFrom: { secretKeyRef: { name: secretName, key: NOTIFY_WEBHOOK_SECRET_KEY, optional: true } } }];
}
