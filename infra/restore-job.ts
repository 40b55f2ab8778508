import type { IJob } from 'kubernetes-models/batch/v1/Job';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IVolume } from 'kubernetes-models/v1/Volume';
import { standardLabels, jobPodSpec, type Built } from './workload.js';

/**
 * The Job envelope shared by the per-PR restore/clone and the staging
 * refresh: bounded retries and run time, and the ArgoCD hook annotations so
 * that, where the preview app is synced by ArgoCD, the data lands before the
 * app starts and a re-sync replaces the previous run.
 */

export const ARGOCD_PRESYNC_HOOK = {
  'argocd.argoproj.io/hook': 'PreSync',
  'argocd.argoproj.io/hook-delete-policy': 'BeforeHookCreation',
} as const;

/** One hour: a preview-sized restore takes minutes; anything longer is stuck. */
export const RESTORE_ACTIVE_DEADLINE_SECONDS = 60 * 60;

export interface RestoreJobEnvelope {
  name: string;
  namespace: string;
  component: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  serviceAccountName?: string;
  container: IContainer;
  volumes?: IVolume[];
}

export function restoreJobEnvelope(spec: RestoreJobEnvelope): Built<IJob, 'metadata' | 'spec'> {
  const labels = standardLabels(spec.component, spec.labels);
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: spec.name, namespace: spec.namespace, labels, annotations: { ...spec.annotations } },
    spec: {
      // Retries cover the minute the Atlas operator may take to create a fresh user.
      backoffLimit: 3,
      activeDeadlineSeconds: RESTORE_ACTIVE_DEADLINE_SECONDS,
      template: {
        metadata: { labels },
        spec: jobPodSpec({
          ...(spec.serviceAccountName === undefined ? {} : { serviceAccountName: spec.serviceAccountName }),
          containers: [spec.container],
          ...(spec.volumes === undefined ? {} : { volumes: spec.volumes }),
        }),
      },
    },
  };
}
