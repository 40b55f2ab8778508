import type { ICronJob } from 'kubernetes-models/batch/v1/CronJob';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IVolume } from 'kubernetes-models/v1/Volume';
import { jobPodSpec, standardLabels, type Built } from './workload.js';

/**
 * The CronJob envelope of every scheduled job (snapshot producer, staging
 * refresh, restore drill): never two runs at once, a missed run waits for the
 * next slot instead of piling up, bounded run time. No retry unless a job asks
 * for one: a retried refresh or drill would send a second notification, and
 * the next slot is the retry.
 */

export interface ScheduledJobArgs {
  name: string;
  namespace: string;
  component: string;
  schedule: string;
  serviceAccountName: string;
  container: IContainer;
  /** Run one after another before `container`, each to completion. */
  initContainers?: IContainer[];
  volumes?: IVolume[];
  activeDeadlineSeconds: number;
  /** Default 0. */
  backoffLimit?: number;
}

export function scheduledJobSpec(args: ScheduledJobArgs): Built<ICronJob, 'metadata' | 'spec'> {
  const labels = standardLabels(args.component);
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name: args.name, namespace: args.namespace, labels },
    spec: {
      schedule: args.schedule,
      timeZone: 'Etc/UTC',
      concurrencyPolicy: 'Forbid',
      // A run missed by more than an hour waits for the next slot rather than colliding with the working day.
      startingDeadlineSeconds: 3600,
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 3,
      jobTemplate: {
        metadata: { labels },
        spec: {
          backoffLimit: args.backoffLimit ?? 0,
          activeDeadlineSeconds: args.activeDeadlineSeconds,
          template: {
            metadata: { labels },
            spec: jobPodSpec({
              serviceAccountName: args.serviceAccountName,
              ...(args.initContainers ? { initContainers: args.initContainers } : {}),
              containers: [args.container],
              ...(args.volumes ? { volumes: args.volumes } : {}),
            }),
          },
        },
      },
    },
  };
}
