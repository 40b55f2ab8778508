import type { IJob } from 'kubernetes-models/batch/v1/Job';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IVolume } from 'kubernetes-models/v1/Volume';
import type { JobResources } from './config.js';
import { globalCliArgs, hardenedContainer, jobPodSpec, mongoUriEnv, standardLabels, type Built } from './workload.js';

/**
 * The Job envelope shared by the per-PR restore/clone/drop and the staging
 * refresh: an init step that waits for the Job's database user, then bounded
 * retries and run time. `pulumi up` creates these Jobs and waits for them to
 * complete; no ArgoCD hook annotation is set, because Argo CD only runs hooks
 * for manifests in its own Application's source, which these are not.
 */

/** The Atlas operator creates a new user within minutes; far longer means it is stuck. */
export const DATABASE_USER_WAIT = '15m';

/** Init container: `syrf-db ping --wait` until the Job's credentials authenticate. */
export function waitForUserContainer(image: string, mongoSecret: string, resources: JobResources): IContainer {
  return hardenedContainer({
    name: 'wait-for-database-user',
    image,
    args: [...globalCliArgs(), 'ping', '--wait', DATABASE_USER_WAIT],
    env: [mongoUriEnv(mongoSecret)],
    resources,
  });
}

/** One hour: a preview-sized restore takes minutes; anything longer is stuck. */
export const RESTORE_ACTIVE_DEADLINE_SECONDS = 60 * 60;

export interface RestoreJobEnvelope {
  name: string;
  namespace: string;
  component: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  serviceAccountName?: string;
  /** Runs before `container`: the wait for the database user. */
  initContainer: IContainer;
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
      // The init step already waited for the user; retries cover transient failures only.
      backoffLimit: 2,
      activeDeadlineSeconds: RESTORE_ACTIVE_DEADLINE_SECONDS,
      template: {
        metadata: { labels },
        spec: jobPodSpec({
          ...(spec.serviceAccountName === undefined ? {} : { serviceAccountName: spec.serviceAccountName }),
          initContainers: [spec.initContainer],
          containers: [spec.container],
          ...(spec.volumes === undefined ? {} : { volumes: spec.volumes }),
        }),
      },
    },
  };
}
