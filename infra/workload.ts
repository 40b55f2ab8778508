import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IEnvVar } from 'kubernetes-models/v1/EnvVar';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import type { IVolume } from 'kubernetes-models/v1/Volume';
import type { IVolumeMount } from 'kubernetes-models/v1/VolumeMount';
import type { JobResources } from './config.js';
import {
  ANONYMIZATION_KEY_SECRET,
  ANONYMIZATION_KEY_SECRET_KEY,
  CONNECTION_STRING_KEY,
  MANIFEST_PUBLIC_KEYS_CONFIGMAP,
  MANIFEST_PUBLIC_KEYS_CONFIGMAP_KEY,
  MANIFEST_SIGNING_KEY_SECRET,
  MANIFEST_SIGNING_KEY_SECRET_KEY,
  ENV,
  KEY_MOUNT_DIR,
  PROJECT_NAME,
  RULES_FILE_NAME,
  RULES_MOUNT_DIR,
} from './names.js';

/**
 * The pod shape every job of ours shares: non-root, read-only root
 * filesystem with a scratch /tmp, no capabilities, no privilege escalation,
 * bounded resources. Secrets only ever enter by reference.
 */

/** UID/GID of the `syrf` user baked into the Dockerfile. */
export const RUN_AS_USER = 10001;

const TMP_VOLUME = 'tmp';
const RULES_VOLUME = 'anonymization-rules';
const KEY_VOLUME = 'anonymization-key';

export interface ContainerArgs {
  name: string;
  image: string;
  args: string[];
  env?: IEnvVar[];
  volumeMounts?: IVolumeMount[];
  resources: JobResources;
}

export function hardenedContainer(spec: ContainerArgs): IContainer {
  return {
    name: spec.name,
    image: spec.image,
    imagePullPolicy: 'IfNotPresent',
    args: spec.args,
    env: spec.env ?? [],
    resources: spec.resources,
    volumeMounts: [{ name: TMP_VOLUME, mountPath: '/tmp' }, ...(spec.volumeMounts ?? [])],
    securityContext: {
      runAsNonRoot: true,
      runAsUser: RUN_AS_USER,
      runAsGroup: RUN_AS_USER,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      privileged: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    },
  };
}

export interface PodArgs {
  /** Omitted for jobs that need no cloud identity at all. */
  serviceAccountName?: string;
  initContainers?: IContainer[];
  containers: IContainer[];
  volumes?: IVolume[];
}

export function jobPodSpec(spec: PodArgs): IPodSpec {
  return {
    ...(spec.serviceAccountName === undefined ? {} : { serviceAccountName: spec.serviceAccountName }),
    // GKE Workload Identity answers through the metadata server; the pod never needs a Kubernetes API token.
    automountServiceAccountToken: false,
    restartPolicy: 'Never',
    securityContext: {
      runAsNonRoot: true,
      runAsUser: RUN_AS_USER,
      runAsGroup: RUN_AS_USER,
      fsGroup: RUN_AS_USER,
      seccompProfile: { type: 'RuntimeDefault' },
    },
    ...(spec.initContainers === undefined ? {} : { initContainers: spec.initContainers }),
    containers: spec.containers,
    volumes: [{ name: TMP_VOLUME, emptyDir: { sizeLimit: '2Gi' } }, ...(spec.volumes ?? [])],
  };
}

/**
 * MONGO_URI read from a database user's Secret. The CLI reads it from the
 * environment itself, so the connection string (with its password) never
 * appears in a process's argument list.
 */
export function mongoUriEnv(secretName: string): IEnvVar {
  return { name: ENV.mongoUri, valueFrom: { secretKeyRef: { name: secretName, key: CONNECTION_STRING_KEY } } };
}

/** The producer signs every manifest; without this key its anonymized snapshot refuses to publish. */
export function manifestSigningKeyEnv(): IEnvVar {
  return { name: ENV.manifestSigningKey, valueFrom: { secretKeyRef: { name: MANIFEST_SIGNING_KEY_SECRET, key: MANIFEST_SIGNING_KEY_SECRET_KEY } } };
}

/** Restores refuse an unsigned or badly signed anonymized manifest once this is set (even empty). */
export function manifestPublicKeysEnv(publicKeys: string): IEnvVar {
  return { name: ENV.manifestPublicKeys, value: publicKeys };
}

/** For the per-PR Jobs: the keys the prod stack published in the preview namespace; a missing ConfigMap stops the pod. */
export function manifestPublicKeysFromConfigMap(): IEnvVar {
  return { name: ENV.manifestPublicKeys, valueFrom: { configMapKeyRef: { name: MANIFEST_PUBLIC_KEYS_CONFIGMAP, key: MANIFEST_PUBLIC_KEYS_CONFIGMAP_KEY, optional: false } } };
}

export function rulesVolume(configMapName: string): { volume: IVolume; mount: IVolumeMount } {
  return {
    volume: { name: RULES_VOLUME, configMap: { name: configMapName, items: [{ key: RULES_FILE_NAME, path: RULES_FILE_NAME }] } },
    mount: { name: RULES_VOLUME, mountPath: RULES_MOUNT_DIR, readOnly: true },
  };
}

export function anonymizationKeyVolume(): { volume: IVolume; mount: IVolumeMount } {
  return {
    volume: {
      name: KEY_VOLUME,
      secret: { secretName: ANONYMIZATION_KEY_SECRET, items: [{ key: ANONYMIZATION_KEY_SECRET_KEY, path: ANONYMIZATION_KEY_SECRET_KEY }], defaultMode: 0o440 },
    },
    mount: { name: KEY_VOLUME, mountPath: KEY_MOUNT_DIR, readOnly: true },
  };
}

export function standardLabels(component: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    'app.kubernetes.io/name': PROJECT_NAME,
    'app.kubernetes.io/component': component,
    'app.kubernetes.io/managed-by': 'pulumi',
    ...extra,
  };
}

/** Global CLI flags every job passes, before the subcommand. */
export function globalCliArgs(): string[] {
  return ['--log-format', 'json'];
}

export function pushgatewayArgs(url: string | undefined): string[] {
  return url === undefined ? [] : ['--pushgateway', url];
}

/** A Kubernetes model whose listed optional fields the builder always sets. */
export type Built<T, K extends keyof T> = T & Required<Pick<T, K>>;

/**
 * The builders speak `kubernetes-models` types (so tests can validate them
 * against the API schema); Pulumi's input types describe the same JSON but
 * differ in details such as IntOrString and quantity unions. This is the one
 * place the two meet.
 */
export function asPulumiInput<T>(model: unknown): T {
  return model as T;
}
