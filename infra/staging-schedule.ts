import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import type { ICronJob } from 'kubernetes-models/batch/v1/CronJob';
import type { StagingConfig } from './config.js';
import { STAGING_KSA, STAGING_MONGO_SECRET } from './names.js';
import { notifyEnv } from './ops-config.js';
import { scheduledJobSpec } from './scheduled-job.js';
import { STAGING_CONFIRMATION } from './names.js';
import { asPulumiInput, globalCliArgs, hardenedContainer, manifestPublicKeysEnv, mongoUriEnv, pushgatewayArgs, type Built } from './workload.js';

/**
 * The weekly staging refresh: a CronJob in the staging stack running
 * `syrf-db staging-refresh`, which refreshes syrf_staging from `latest`
 * through the ordinary restore and refuses a snapshot that is stale,
 * unverified or not anonymized. Same identity and database user as the
 * manual refresh Job; the manual workflow stays for on-demand refreshes.
 */

export const SCHEDULED_REFRESH_CRONJOB = 'staging-refresh-scheduled';
/** Verify plus restore of the whole anonymized database; the manual Job allows an hour for the restore alone. */
export const SCHEDULED_REFRESH_DEADLINE_SECONDS = 90 * 60;

export type ScheduledRefreshConfig = Pick<
  StagingConfig,
  'namespace' | 'image' | 'bucketName' | 'pushgatewayUrl' | 'jobResources' | 'stagingRefreshSchedule' | 'stagingMaxSnapshotAgeHours' | 'notifyWebhookSecret' | 'manifestPublicKeys'
>;

export function scheduledRefreshArgs(config: ScheduledRefreshConfig): string[] {
  return [
    ...globalCliArgs(),
    'staging-refresh',
    '--from', `gs://${config.bucketName}`,
    '--confirm', STAGING_CONFIRMATION,
    '--max-age-hours', String(config.stagingMaxSnapshotAgeHours),
    ...pushgatewayArgs(config.pushgatewayUrl),
  ];
}

export function scheduledRefreshCronJobSpec(config: ScheduledRefreshConfig): Built<ICronJob, 'metadata' | 'spec'> {
  return scheduledJobSpec({
    name: SCHEDULED_REFRESH_CRONJOB,
    namespace: config.namespace,
    component: 'staging-refresh-scheduled',
    schedule: config.stagingRefreshSchedule,
    serviceAccountName: STAGING_KSA,
    activeDeadlineSeconds: SCHEDULED_REFRESH_DEADLINE_SECONDS,
    container: hardenedContainer({
      name: 'staging-refresh',
      image: config.image,
      args: scheduledRefreshArgs(config),
      env: [mongoUriEnv(STAGING_MONGO_SECRET), manifestPublicKeysEnv(config.manifestPublicKeys), ...notifyEnv(config.notifyWebhookSecret)],
      resources: config.jobResources,
    }),
  });
}

export class ScheduledStagingRefresh extends pulumi.ComponentResource {
  readonly cronJobName = SCHEDULED_REFRESH_CRONJOB;

  constructor(name: string, args: { config: ScheduledRefreshConfig }, opts?: pulumi.ComponentResourceOptions) {
    super('syrf:db:ScheduledStagingRefresh', name, {}, opts);
    const spec = scheduledRefreshCronJobSpec(args.config);
    new k8s.batch.v1.CronJob(name, { metadata: spec.metadata, spec: asPulumiInput<k8s.types.input.batch.v1.CronJobSpec>(spec.spec) }, { parent: this });
    this.registerOutputs({ cronJobName: this.cronJobName });
  }
}
