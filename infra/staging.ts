import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import type { IJob } from 'kubernetes-models/batch/v1/Job';
import type { StagingConfig } from './config.js';
import { DatabaseUser, stagingRoles } from './db-users.js';
import { WorkloadIdentity } from './identities.js';
import { RULES_PATH_IN_POD, STAGING_CONFIRMATION, STAGING_DATABASE, STAGING_KSA, STAGING_MONGO_SECRET, stagingRefreshJobName } from './names.js';
import { restoreJobEnvelope, waitForUserContainer } from './restore-job.js';
import { RulesConfigMap } from './rules-configmap.js';
import {
  asPulumiInput,
  globalCliArgs,
  hardenedContainer,
  manifestPublicKeysEnv,
  mongoUriEnv,
  pushgatewayArgs,
  rulesVolume,
  type Built,
} from './workload.js';
import { notifyEnv } from './ops-config.js';

/**
 * Staging stack: the staging identity (a KSA bound to the restorer GSA),
 * the staging database user, and the on-demand refresh Job. The Job exists
 * only while `refreshId` is set; the refresh workflow sets a new id per run,
 * so each confirmed run is one fresh Job and `pulumi up` reports its outcome.
 */

export type StagingJobConfig = Pick<StagingConfig, 'namespace' | 'image' | 'bucketName' | 'snapshotId' | 'pushgatewayUrl' | 'jobResources' | 'manifestPublicKeys'> &
  Partial<Pick<StagingConfig, 'notifyWebhookSecret'>>;


export function stagingRefreshArgs(config: StagingJobConfig): string[] {
  return [
    ...globalCliArgs(),
    'restore',
    '--from', `gs://${config.bucketName}`,
    '--snapshot', config.snapshotId,
    '--target', STAGING_DATABASE,
    '--rules', RULES_PATH_IN_POD,
    // Staging gets the whole (anonymized) database; size limits are for previews.
    '--no-size-limits',
    '--confirm', STAGING_CONFIRMATION,
    ...pushgatewayArgs(config.pushgatewayUrl),
  ];
}

export function stagingRefreshJobSpec(config: StagingJobConfig, rulesConfigMapName: string, refreshId: string): Built<IJob, 'metadata' | 'spec'> {
  const rules = rulesVolume(rulesConfigMapName);
  return restoreJobEnvelope({
    name: stagingRefreshJobName(refreshId),
    namespace: config.namespace,
    component: 'staging-refresh',
    labels: { 'syrf.camarades.org/refresh-id': refreshId },
    serviceAccountName: STAGING_KSA,
    initContainer: waitForUserContainer(config.image, STAGING_MONGO_SECRET, config.jobResources),
    container: hardenedContainer({
      name: 'restore',
      image: config.image,
      args: stagingRefreshArgs(config),
      env: [mongoUriEnv(STAGING_MONGO_SECRET), manifestPublicKeysEnv(config.manifestPublicKeys), ...notifyEnv(config.notifyWebhookSecret)],
      volumeMounts: [rules.mount],
      resources: config.jobResources,
    }),
    volumes: [rules.volume],
  });
}

export class StagingRefresh extends pulumi.ComponentResource {
  readonly jobName: string | undefined;
  readonly userSecretName: string;
  readonly serviceAccountName = STAGING_KSA;

  constructor(name: string, args: { config: StagingConfig; rulesYaml: string }, opts?: pulumi.ComponentResourceOptions) {
    super('syrf:db:StagingRefresh', name, {}, opts);
    const { config } = args;
    new WorkloadIdentity(
      `${name}-identity`,
      { project: config.gcpProject, namespace: config.namespace, ksaName: STAGING_KSA, gsaEmail: config.restorerServiceAccountEmail },
      { parent: this },
    );
    const user = new DatabaseUser(
      `${name}-db-user`,
      { config, username: 'syrf-db-staging', secretName: STAGING_MONGO_SECRET, roles: stagingRoles(), description: 'Staging refresh loader' },
      { parent: this },
    );
    this.userSecretName = user.secretName;
    const rules = new RulesConfigMap(
      `${name}-rules`,
      { prefix: 'anonymization-rules-staging', namespace: config.namespace, rulesYaml: args.rulesYaml },
      { parent: this },
    );
    this.jobName = undefined;
    if (config.refreshId !== undefined) {
      const spec = stagingRefreshJobSpec(config, rules.configMapName, config.refreshId);
      new k8s.batch.v1.Job(
        `${name}-job`,
        { metadata: spec.metadata, spec: asPulumiInput<k8s.types.input.batch.v1.JobSpec>(spec.spec) },
        { parent: this, dependsOn: [...user.resources, rules], deleteBeforeReplace: true, customTimeouts: { create: '75m', update: '75m' } },
      );
      this.jobName = stagingRefreshJobName(config.refreshId);
    }
    this.registerOutputs({ jobName: this.jobName, userSecretName: this.userSecretName });
  }
}
