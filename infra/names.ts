/**
 * Every name that more than one part of the system must agree on: the
 * program, the policy pack, the workflows and the runbook all read them
 * from here, so a rename cannot leave a guard watching the wrong thing.
 */

import { LATEST_KEY } from '../runtime/contract/index.js';

// Database names, the snapshot layout, env var and command names come from the contract the runtime uses too.
export {
  PROD_DATABASE,
  STAGING_DATABASE,
  PREVIEW_DATABASE_PATTERN,
  STAGING_CONFIRMATION,
  previewDatabase,
  SNAPSHOT_PREFIX,
  SNAPSHOT_OBJECTS,
  SNAPSHOT_REF_PATTERN,
  ENV,
  CLI_COMMANDS,
  TARGET_WRITING_COMMANDS,
} from '../runtime/contract/index.js';
export const LATEST_MARKER = LATEST_KEY;

export const PROJECT_NAME = 'syrf-db-tools';

/** Production workloads (the producer, its secrets and identity) live here. */
export const DEFAULT_NAMESPACE = 'syrf-system';
/**
 * Preview Jobs live here: a namespace that holds no production secret, no producer
 * identity and no HMAC key, so a preview deployer with rights in it cannot reach them.
 */
export const DEFAULT_PREVIEW_NAMESPACE = 'syrf-db-previews';

/**
 * Secrets that carry production power. A workload that writes to a
 * non-production database must never reference one of them.
 */
export const LEGACY_PROD_MONGO_SECRET = 'mongo-db-prod';
export const PRODUCER_MONGO_SECRET = 'syrf-db-producer-mongo';
export const ANONYMIZATION_KEY_SECRET = 'syrf-anonymization-key';
export const ANONYMIZATION_KEY_SECRET_KEY = 'key';
/** The producer's manifest signing key (Ed25519, PKCS#8 DER base64), created like the HMAC key (docs/runbook.md). */
export const MANIFEST_SIGNING_KEY_SECRET = 'syrf-manifest-signing-key';
export const MANIFEST_SIGNING_KEY_SECRET_KEY = 'key';
/** Public, so a ConfigMap: the prod stack writes it into the preview namespace for the per-PR restore Jobs. */
export const MANIFEST_PUBLIC_KEYS_CONFIGMAP = 'syrf-manifest-public-keys';
export const MANIFEST_PUBLIC_KEYS_CONFIGMAP_KEY = 'public-keys';
export const PRODUCTION_SECRETS: readonly string[] = [
  LEGACY_PROD_MONGO_SECRET,
  PRODUCER_MONGO_SECRET,
  ANONYMIZATION_KEY_SECRET,
  MANIFEST_SIGNING_KEY_SECRET,
];

export const STAGING_MONGO_SECRET = 'syrf-db-staging-mongo';
export function previewMongoSecret(prNumber: number): string {
  return `syrf-db-pr-${prNumber}-mongo`;
}
/** Key holding the full connection string in each database user's Secret. */
export const CONNECTION_STRING_KEY = 'connection-string';

export const PRODUCER_KSA = 'syrf-db-producer';
export const RESTORER_KSA = 'syrf-db-restorer';
export const STAGING_KSA = 'syrf-db-staging';

export const PRODUCER_GSA_ID = 'syrf-db-producer';
export const RESTORER_GSA_ID = 'syrf-db-restorer';

export const PRODUCER_CRONJOB = 'snapshot-producer';
export function previewJobName(prNumber: number): string {
  return `snapshot-restore-pr-${prNumber}`;
}
export function previewDropJobName(prNumber: number): string {
  return `drop-preview-pr-${prNumber}`;
}
export function stagingRefreshJobName(refreshId: string): string {
  return `staging-refresh-${refreshId}`;
}

export const RULES_MOUNT_DIR = '/config';
export const RULES_FILE_NAME = 'anonymization-rules.yaml';
export const RULES_PATH_IN_POD = `${RULES_MOUNT_DIR}/${RULES_FILE_NAME}`;
export const KEY_MOUNT_DIR = '/secrets/anonymization';
export const KEY_PATH_IN_POD = `${KEY_MOUNT_DIR}/${ANONYMIZATION_KEY_SECRET_KEY}`;

/** Stack names the program accepts, and what each provisions. */
export type StackKind = 'prod' | 'staging' | 'preview';
export const PREVIEW_STACK_PATTERN = /^pr-([1-9]\d*)$/;

export function stackKindOf(stack: string): { kind: StackKind; prNumber?: number } | undefined {
  if (stack === 'prod') return { kind: 'prod' };
  if (stack === 'staging') return { kind: 'staging' };
  const match = PREVIEW_STACK_PATTERN.exec(stack);
  if (match?.[1] !== undefined) return { kind: 'preview', prNumber: Number(match[1]) };
  return undefined;
}
