import * as gcp from '@pulumi/gcp';
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import type { ICronJob } from 'kubernetes-models/batch/v1/CronJob';
import type { StagingConfig } from './config.js';
import { DatabaseUser, type DatabaseRole } from './db-users.js';
import { RESTORER_BUCKET_ROLE, WorkloadIdentity, restorerCondition } from './identities.js';
import { LATEST_MARKER } from './names.js';
import { notifyEnv } from './ops-config.js';
import { scheduledJobSpec } from './scheduled-job.js';
import { asPulumiInput, globalCliArgs, hardenedContainer, manifestPublicKeysEnv, mongoUriEnv, pushgatewayArgs, type Built } from './workload.js';

/**
 * The daily restore drill. Its identity lives in the prod stack (next to
 * the bucket): read what the restorer reads, and write exactly one object,
 * `prod/latest.txt`, so a failed drill can move `latest` back. The CronJob
 * and its database user live in the staging stack, beside the other
 * non-production writers: the user may only touch the scratch database.
 */

/** Must equal the runtime's DRILL_DB (runtime/ops/drill.ts); a contract test checks it. */
export const DRILL_DATABASE = 'syrf_drill';
export const DRILL_GSA_ID = 'syrf-db-drill';
export const DRILL_KSA = 'syrf-db-drill';
export const DRILL_MONGO_SECRET = 'syrf-db-drill-mongo';
export const DRILL_CRONJOB = 'restore-drill';
export const DRILL_LATEST_ROLE = 'roles/storage.objectUser';
/** Restore, re-read for the sample, drop: well inside an hour for today's data. */
export const DRILL_DEADLINE_SECONDS = 60 * 60;

export function drillRoles(): DatabaseRole[] {
  return [
    { roleName: 'readWrite', databaseName: DRILL_DATABASE },
    { roleName: 'dbAdmin', databaseName: DRILL_DATABASE },
  ];
}

/** Overwrite `prod/latest.txt` and nothing else. */
export function latestMarkerCondition(bucket: string): { title: string; description: string; expression: string } {
  return {
    title: 'restore-drill-latest-marker',
    description: 'prod/latest.txt only',
    expression: `resource.name == "projects/_/buckets/${bucket}/objects/${LATEST_MARKER}"`,
  };
}

/** Prod stack: the drill's Google service account and its two bucket grants. */
export class DrillIdentity extends pulumi.ComponentResource {
  readonly email: pulumi.Output<string>;

  constructor(name: string, args: { project: string; bucketName: pulumi.Input<string> }, opts?: pulumi.ComponentResourceOptions) {
    super('syrf:db:DrillIdentity', name, {}, opts);
    const account = new gcp.serviceaccount.Account(
      name,
      { project: args.project, accountId: DRILL_GSA_ID, displayName: 'SyRF DB restore drill', description: 'Reads anonymized snapshots; may move prod/latest.txt back after a failed drill' },
      { parent: this },
    );
    this.email = account.email;
    const member = pulumi.interpolate`serviceAccount:${account.email}`;
    new gcp.storage.BucketIAMMember(
      `${name}-read`,
      { bucket: args.bucketName, role: RESTORER_BUCKET_ROLE, member, condition: pulumi.output(args.bucketName).apply(restorerCondition) },
      { parent: this },
    );
    new gcp.storage.BucketIAMMember(
      `${name}-latest`,
      { bucket: args.bucketName, role: DRILL_LATEST_ROLE, member, condition: pulumi.output(args.bucketName).apply(latestMarkerCondition) },
      { parent: this },
    );
    this.registerOutputs({ email: this.email });
  }
}

export type DrillConfig = Pick<StagingConfig, 'namespace' | 'image' | 'bucketName' | 'pushgatewayUrl' | 'jobResources' | 'drillSchedule' | 'notifyWebhookSecret' | 'manifestPublicKeys'>;

export function drillArgs(config: DrillConfig): string[] {
  return [...globalCliArgs(), 'drill', '--from', `gs://${config.bucketName}`, '--snapshot', 'latest', ...pushgatewayArgs(config.pushgatewayUrl)];
}

export function drillCronJobSpec(config: DrillConfig): Built<ICronJob, 'metadata' | 'spec'> {
  return scheduledJobSpec({
    name: DRILL_CRONJOB,
    namespace: config.namespace,
    component: 'restore-drill',
    schedule: config.drillSchedule,
    serviceAccountName: DRILL_KSA,
    activeDeadlineSeconds: DRILL_DEADLINE_SECONDS,
    container: hardenedContainer({
      name: 'drill',
      image: config.image,
      args: drillArgs(config),
      env: [mongoUriEnv(DRILL_MONGO_SECRET), manifestPublicKeysEnv(config.manifestPublicKeys), ...notifyEnv(config.notifyWebhookSecret)],
      resources: config.jobResources,
    }),
  });
}

/** Staging stack: the drill's service account, its database user (syrf_drill only) and the CronJob. */
export class RestoreDrill extends pulumi.ComponentResource {
  readonly cronJobName = DRILL_CRONJOB;
  readonly userSecretName: string;

  constructor(name: string, args: { config: StagingConfig; drillServiceAccountEmail: string }, opts?: pulumi.ComponentResourceOptions) {
    super('syrf:db:RestoreDrill', name, {}, opts);
    const { config } = args;
    const identity = new WorkloadIdentity(
      `${name}-identity`,
      { project: config.gcpProject, namespace: config.namespace, ksaName: DRILL_KSA, gsaEmail: args.drillServiceAccountEmail },
      { parent: this },
    );
    const user = new DatabaseUser(
      `${name}-db-user`,
      { config, username: 'syrf-db-drill', secretName: DRILL_MONGO_SECRET, roles: drillRoles(), description: 'Daily restore drill (scratch database only)' },
      { parent: this },
    );
    this.userSecretName = user.secretName;
    const spec = drillCronJobSpec(config);
    new k8s.batch.v1.CronJob(
      name,
      { metadata: spec.metadata, spec: asPulumiInput<k8s.types.input.batch.v1.CronJobSpec>(spec.spec) },
      { parent: this, dependsOn: [identity, ...user.resources] },
    );
    this.registerOutputs({ cronJobName: this.cronJobName, userSecretName: this.userSecretName });
  }
}
