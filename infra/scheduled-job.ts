import type { ICronJob } from 'kubernetes-models/batch/v1/CronJob';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IVolume } from 'kubernetes-models/v1/Volume';
import { jobPodSpec, standardLabels, type Built } from './workload.js';

/**
 * The CronJob envelope of the scheduled operational jobs (staging refresh,
 * restore drill): never two runs at once, a missed run waits for the next
 * slot instead of piling up, no retry (a retried refresh or drill would send
 * a second notification; the next slot is the retry), bounded run time.
 */

export interface ScheduledJobArgs {
  name: string;
  namespace: string;
  component: string;
  schedule: string;
  serviceAccountName: string;
  container: IContainer;
  volumes?: IVolume[];
  activeDeadlineSeconds: number;
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
      startingDeadlineSeconds: 3600,
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 3,
      jobTemplate: {
        metadata: { labels },
        spec: {
          backoffLimit: 0,
          activeDeadlineSeconds: args.activeDeadlineSeconds,
          template: {
            metadata: { labels },
            spec: jobPodSpec({ serviceAccountName: args.serviceAccountName, containers: [args.container], ...(args.volumes ? { volumes: args.volumes } : {}) }),
          },
        },
      },
    },
  };
}
