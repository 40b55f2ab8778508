import type * as pulumi from '@pulumi/pulumi';
import type { PreviewConfig, ProdConfig, StackConfig, StagingConfig } from './config.js';
import { SnapshotBucket } from './bucket.js';
import { DatabaseUser, producerRoles } from './db-users.js';
import { SnapshotIdentities } from './identities.js';
import { PRODUCER_MONGO_SECRET } from './names.js';
import { PreviewDatabase } from './preview.js';
import { PreviewNamespace } from './preview-namespace.js';
import { SnapshotProducer } from './producer.js';
import { RulesConfigMap } from './rules-configmap.js';
import { StagingRefresh } from './staging.js';
import { DrillIdentity, RestoreDrill } from './drill.js';
import { ScheduledStagingRefresh } from './staging-schedule.js';

/**
 * Composes the components a stack kind needs. Kept apart from index.ts so
 * tests can run it under Pulumi mocks with a config they build themselves.
 */

export interface StackOutputs {
  bucketName?: pulumi.Input<string>;
  producerServiceAccountEmail?: pulumi.Input<string>;
  restorerServiceAccountEmail?: pulumi.Input<string>;
  producerCronJobName?: string;
  rulesConfigMapName?: string;
  databaseUserSecretName?: string;
  previewDatabaseName?: string;
  previewJobName?: string;
  stagingRefreshJobName?: string;
  previewNamespace?: string;
  drillServiceAccountEmail?: pulumi.Input<string>;
  stagingRefreshCronJobName?: string;
  drillCronJobName?: string;
}

/** Only the outputs a stack has: Pulumi warns about every exported undefined value. */
export function definedOutputs(outputs: StackOutputs): StackOutputs {
  return Object.fromEntries(Object.entries(outputs).filter(([, value]) => value !== undefined)) as StackOutputs;
}

function defineProd(config: ProdConfig, rulesYaml: string): StackOutputs {
  const bucket = new SnapshotBucket('snapshots', config);
  const identities = new SnapshotIdentities('identities', {
    project: config.gcpProject,
    namespace: config.namespace,
    bucketName: bucket.bucketName,
  });
  const producerUser = new DatabaseUser('producer', {
    config,
    username: 'syrf-db-producer',
    secretName: PRODUCER_MONGO_SECRET,
    roles: producerRoles(),
    description: 'Nightly anonymized snapshot producer (read-only)',
  });
  const previews = new PreviewNamespace('previews', {
    project: config.gcpProject,
    namespace: config.previewNamespace,
    restorerEmail: identities.restorerEmail,
    deployerEmail: config.previewDeployerEmail,
    manifestPublicKeys: config.manifestPublicKeys,
  });
  const rules = new RulesConfigMap('rules', { prefix: 'anonymization-rules', namespace: config.namespace, rulesYaml });
  const producer = new SnapshotProducer(
    'producer',
    { config, rulesConfigMapName: rules.configMapName },
    { dependsOn: [identities, producerUser, rules] },
  );
  const drill = config.restoreDrill ? new DrillIdentity('drill-identity', { project: config.gcpProject, bucketName: bucket.bucketName }) : undefined;
  return {
    bucketName: bucket.bucketName,
    ...(drill ? { drillServiceAccountEmail: drill.email } : {}),
    producerServiceAccountEmail: identities.producerEmail,
    restorerServiceAccountEmail: identities.restorerEmail,
    producerCronJobName: producer.cronJobName,
    rulesConfigMapName: rules.configMapName,
    databaseUserSecretName: producerUser.secretName,
    previewNamespace: previews.namespaceName,
  };
}

function defineStaging(config: StagingConfig, rulesYaml: string): StackOutputs {
  const staging = new StagingRefresh('staging', { config, rulesYaml });
  const schedule = new ScheduledStagingRefresh('staging-schedule', { config }, { dependsOn: [staging] });
  const drill = config.drillServiceAccountEmail === undefined ? undefined : new RestoreDrill('drill', { config, drillServiceAccountEmail: config.drillServiceAccountEmail });
  return {
    stagingRefreshCronJobName: schedule.cronJobName,
    ...(drill ? { drillCronJobName: drill.cronJobName } : {}),
    bucketName: config.bucketName,
    restorerServiceAccountEmail: config.restorerServiceAccountEmail,
    databaseUserSecretName: staging.userSecretName,
    ...(staging.jobName === undefined ? {} : { stagingRefreshJobName: staging.jobName }),
  };
}

function definePreview(config: PreviewConfig, rulesYaml: string): StackOutputs {
  const preview = new PreviewDatabase(`pr-${config.prNumber}`, { config, rulesYaml });
  return {
    bucketName: config.bucketName,
    previewDatabaseName: preview.databaseName,
    ...(preview.jobName === undefined ? {} : { previewJobName: preview.jobName }),
    ...(preview.userSecretName === undefined ? {} : { databaseUserSecretName: preview.userSecretName }),
    previewNamespace: config.namespace,
  };
}

export function defineStack(config: StackConfig, rulesYaml: string): StackOutputs {
  switch (config.kind) {
    case 'prod':
      return defineProd(config, rulesYaml);
    case 'staging':
      return defineStaging(config, rulesYaml);
    case 'preview':
      return definePreview(config, rulesYaml);
  }
}
