import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import type { ICronJob } from 'kubernetes-models/batch/v1/CronJob';
import type { ProdConfig } from './config.js';
import { KEY_PATH_IN_POD, PROD_DATABASE, PRODUCER_CRONJOB, PRODUCER_KSA, PRODUCER_MONGO_SECRET, RULES_PATH_IN_POD } from './names.js';
import {
  anonymizationKeyVolume,
  asPulumiInput,
  type Built,
  globalCliArgs,
  hardenedContainer,
  manifestSigningKeyEnv,
  mongoUriEnv,
  pushgatewayArgs,
  rulesVolume,
} from './workload.js';
import { notifyEnv } from './ops-config.js';
import { scheduledJobSpec } from './scheduled-job.js';

/**
 * The nightly snapshot producer. Two steps in one pod, in order, without a
 * shell: `snapshot` runs as the init container and `prune` as the main
 * container, so retention only runs after a snapshot succeeded and each
 * step keeps its own log stream and exit code.
 */

export type ProducerConfig = Pick<
  ProdConfig,
  'namespace' | 'image' | 'bucketName' | 'schedule' | 'keepDaily' | 'keepWeekly' | 'pushgatewayUrl' | 'jobResources'
> &
  Partial<Pick<ProdConfig, 'storageBudgetBytes' | 'notifyWebhookSecret'>>;

/** Four hours: far above a normal run, short enough that a hung run is killed before the next night. */
export const PRODUCER_ACTIVE_DEADLINE_SECONDS = 4 * 60 * 60;

export function snapshotArgs(config: ProducerConfig): string[] {
  return [
    ...globalCliArgs(),
    'snapshot',
    '--db', PROD_DATABASE,
    '--to', `gs://${config.bucketName}`,
    '--anonymize',
    '--rules', RULES_PATH_IN_POD,
    '--key-file', KEY_PATH_IN_POD,
    // The coverage check reads every document (also the CLI default; stated so a default change cannot weaken production).
    '--check-sample', 'all',
    ...pushgatewayArgs(config.pushgatewayUrl),
  ];
}

export function pruneArgs(config: ProducerConfig): string[] {
  return [
    ...globalCliArgs(),
    'prune',
    '--from', `gs://${config.bucketName}`,
    '--daily', String(config.keepDaily),
    '--weekly', String(config.keepWeekly),
    ...(config.storageBudgetBytes === undefined ? [] : ['--storage-budget-bytes', String(config.storageBudgetBytes)]),
    ...pushgatewayArgs(config.pushgatewayUrl),
  ];
}

export function cronJobSpec(config: ProducerConfig, rulesConfigMapName: string): Built<ICronJob, 'metadata' | 'spec'> {
  const rules = rulesVolume(rulesConfigMapName);
  const key = anonymizationKeyVolume();
  return scheduledJobSpec({
    name: PRODUCER_CRONJOB,
    namespace: config.namespace,
    component: 'snapshot-producer',
    schedule: config.schedule,
    serviceAccountName: PRODUCER_KSA,
    // The snapshot runs first; prune runs only after it succeeded.
    initContainers: [
      hardenedContainer({
        name: 'snapshot',
        image: config.image,
        args: snapshotArgs(config),
        env: [mongoUriEnv(PRODUCER_MONGO_SECRET), manifestSigningKeyEnv(), ...notifyEnv(config.notifyWebhookSecret)],
        volumeMounts: [rules.mount, key.mount],
        resources: config.jobResources,
      }),
    ],
    container: hardenedContainer({ name: 'prune', image: config.image, args: pruneArgs(config), resources: config.jobResources }),
    volumes: [rules.volume, key.volume],
    activeDeadlineSeconds: PRODUCER_ACTIVE_DEADLINE_SECONDS,
    backoffLimit: 1,
  });
}

export interface SnapshotProducerArgs {
  config: ProducerConfig;
  rulesConfigMapName: string;
}

export class SnapshotProducer extends pulumi.ComponentResource {
  readonly cronJobName: string;

  constructor(name: string, args: SnapshotProducerArgs, opts?: pulumi.ComponentResourceOptions) {
    super('syrf:db:SnapshotProducer', name, {}, opts);
    const spec = cronJobSpec(args.config, args.rulesConfigMapName);
    this.cronJobName = PRODUCER_CRONJOB;
    new k8s.batch.v1.CronJob(
      name,
      { metadata: spec.metadata, spec: asPulumiInput<k8s.types.input.batch.v1.CronJobSpec>(spec.spec) },
      { parent: this },
    );
    this.registerOutputs({ cronJobName: this.cronJobName });
  }
}
