import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import type { IJob } from 'kubernetes-models/batch/v1/Job';
import type { PreviewConfig } from './config.js';
import { DatabaseUser, previewRoles } from './db-users.js';
import {
  previewDatabase,
  previewDropJobName,
  previewJobName,
  previewMongoSecret,
  RESTORER_KSA,
  RULES_PATH_IN_POD,
  STAGING_DATABASE,
} from './names.js';
import { restoreJobEnvelope, waitForUserContainer } from './restore-job.js';
import { RulesConfigMap } from './rules-configmap.js';
import {
  asPulumiInput,
  globalCliArgs,
  hardenedContainer,
  manifestPublicKeysFromConfigMap,
  mongoUriEnv,
  pushgatewayArgs,
  rulesVolume,
  type Built,
} from './workload.js';

/**
 * Per-PR stack `pr-<N>`: the data for `syrf_pr_<N>` and nothing else. A
 * `snapshot` source restores an anonymized snapshot, `staging` clones the
 * staging database, `seed` declares nothing (the app's own seeder runs).
 * In teardown mode (set by the close flow) the stack declares only the PR's
 * user and a Job that drops `syrf_pr_<N>`; `pulumi destroy` then deletes the
 * user from Atlas. Everything lives in the preview namespace, which holds no
 * production secret, no producer identity and no HMAC key.
 */

export type PreviewJobConfig = Pick<
  PreviewConfig,
  'namespace' | 'image' | 'bucketName' | 'prNumber' | 'dbSource' | 'snapshotId' | 'collections' | 'pushgatewayUrl' | 'jobResources'
>;

export function dropArgs(config: Pick<PreviewJobConfig, 'prNumber'>): string[] {
  return [...globalCliArgs(), 'drop', '--target', previewDatabase(config.prNumber)];
}

export function restoreArgs(config: PreviewJobConfig): string[] {
  return [
    ...globalCliArgs(),
    'restore',
    '--from', `gs://${config.bucketName}`,
    '--snapshot', config.snapshotId,
    '--target', previewDatabase(config.prNumber),
    ...(config.collections.length > 0 ? ['--collections', config.collections.join(',')] : []),
    // Rules without the key: size limits and subsetting apply; a raw snapshot is refused rather than restored.
    '--rules', RULES_PATH_IN_POD,
    ...pushgatewayArgs(config.pushgatewayUrl),
  ];
}

export function cloneArgs(config: PreviewJobConfig): string[] {
  return [
    ...globalCliArgs(),
    'clone',
    '--from', STAGING_DATABASE,
    '--target', previewDatabase(config.prNumber),
    ...pushgatewayArgs(config.pushgatewayUrl),
  ];
}

function previewLabels(config: PreviewJobConfig): Record<string, string> {
  return { 'syrf.camarades.org/pr': String(config.prNumber), 'syrf.camarades.org/db-source': config.dbSource };
}

export function restoreJobSpec(config: PreviewJobConfig, rulesConfigMapName: string): Built<IJob, 'metadata' | 'spec'> {
  const rules = rulesVolume(rulesConfigMapName);
  return restoreJobEnvelope({
    name: previewJobName(config.prNumber),
    namespace: config.namespace,
    component: 'snapshot-restore',
    labels: previewLabels(config),
    serviceAccountName: RESTORER_KSA,
    initContainer: waitForUserContainer(config.image, previewMongoSecret(config.prNumber), config.jobResources),
    container: hardenedContainer({
      name: 'restore',
      image: config.image,
      args: restoreArgs(config),
      // Signed manifests only: a bucket writer cannot pass raw data off as anonymized.
      env: [mongoUriEnv(previewMongoSecret(config.prNumber)), manifestPublicKeysFromConfigMap()],
      volumeMounts: [rules.mount],
      resources: config.jobResources,
    }),
    volumes: [rules.volume],
  });
}

/** Cloning never touches the bucket, so it runs without a cloud identity. */
export function cloneJobSpec(config: PreviewJobConfig): Built<IJob, 'metadata' | 'spec'> {
  return restoreJobEnvelope({
    name: previewJobName(config.prNumber),
    namespace: config.namespace,
    component: 'staging-clone',
    labels: previewLabels(config),
    initContainer: waitForUserContainer(config.image, previewMongoSecret(config.prNumber), config.jobResources),
    container: hardenedContainer({
      name: 'clone',
      image: config.image,
      args: cloneArgs(config),
      env: [mongoUriEnv(previewMongoSecret(config.prNumber))],
      resources: config.jobResources,
    }),
  });
}

/** Teardown: drops syrf_pr_<N> as the PR's own user, through the runtime's target guard. */
export function dropJobSpec(config: PreviewJobConfig): Built<IJob, 'metadata' | 'spec'> {
  return restoreJobEnvelope({
    name: previewDropJobName(config.prNumber),
    namespace: config.namespace,
    component: 'preview-drop',
    labels: { 'syrf.camarades.org/pr': String(config.prNumber) },
    initContainer: waitForUserContainer(config.image, previewMongoSecret(config.prNumber), config.jobResources),
    container: hardenedContainer({
      name: 'drop',
      image: config.image,
      args: dropArgs(config),
      env: [mongoUriEnv(previewMongoSecret(config.prNumber))],
      resources: config.jobResources,
    }),
  });
}

/** The job a PR's data source calls for, or undefined for `seed`. */
export function previewJobSpec(config: PreviewJobConfig, rulesConfigMapName: string): Built<IJob, 'metadata' | 'spec'> | undefined {
  switch (config.dbSource) {
    case 'seed':
      return undefined;
    case 'snapshot':
      return restoreJobSpec(config, rulesConfigMapName);
    case 'staging':
      return cloneJobSpec(config);
  }
}

export interface PreviewDatabaseArgs {
  config: PreviewConfig;
  rulesYaml: string;
}

export class PreviewDatabase extends pulumi.ComponentResource {
  readonly databaseName: string;
  readonly jobName: string | undefined;
  readonly userSecretName: string | undefined;

  constructor(name: string, args: PreviewDatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super('syrf:db:PreviewDatabase', name, {}, opts);
    const { config } = args;
    this.databaseName = previewDatabase(config.prNumber);
    this.jobName = undefined;
    this.userSecretName = undefined;

    // Teardown needs the user too (a `seed` PR's app created the database without one).
    if (config.teardown || config.dbSource !== 'seed') {
      const user = new DatabaseUser(
        `${name}-db-user`,
        {
          config,
          username: `syrf-db-pr-${config.prNumber}`,
          secretName: previewMongoSecret(config.prNumber),
          roles: previewRoles(config.prNumber, config.teardown ? 'seed' : config.dbSource),
          description: `PR #${config.prNumber} preview data loader`,
        },
        { parent: this },
      );
      this.userSecretName = user.secretName;
      // Only a snapshot restore reads the rules (size limits, subsetting); a clone copies staging as it is.
      const rules =
        !config.teardown && config.dbSource === 'snapshot'
          ? new RulesConfigMap(
              `${name}-rules`,
              { prefix: `anonymization-rules-pr-${config.prNumber}`, namespace: config.namespace, rulesYaml: args.rulesYaml },
              { parent: this },
            )
          : undefined;
      const spec = config.teardown ? dropJobSpec(config) : previewJobSpec(config, rules?.configMapName ?? '');
      if (spec !== undefined) {
        new k8s.batch.v1.Job(
          config.teardown ? `${name}-drop` : `${name}-job`,
          { metadata: spec.metadata, spec: asPulumiInput<k8s.types.input.batch.v1.JobSpec>(spec.spec) },
          {
            parent: this,
            dependsOn: [...user.resources, ...(rules === undefined ? [] : [rules])],
            deleteBeforeReplace: true,
            customTimeouts: { create: '75m', update: '75m' },
          },
        );
        this.jobName = spec.metadata.name;
      }
    }
    this.registerOutputs({ databaseName: this.databaseName, jobName: this.jobName, userSecretName: this.userSecretName });
  }
}
