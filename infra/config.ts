import { createPublicKey } from 'node:crypto';
import { z } from 'zod';
import { DEFAULT_NAMESPACE, DEFAULT_PREVIEW_NAMESPACE, PROJECT_NAME, SNAPSHOT_REF_PATTERN, stackKindOf, type StackKind } from './names.js';
import { prodOpsFields, stagingOpsFields } from './ops-config.js';

/**
 * Typed stack configuration. Everything the program needs is validated
 * here, before any resource is declared, so a typo fails `pulumi preview`
 * with one message naming the key instead of a half-applied stack.
 */

/**
 * The producer's Ed25519 public key(s), base64 SPKI DER (as `syrf-db keys generate` prints),
 * comma-separated during a rotation. Required: restores configured with it refuse an
 * unsigned or badly signed anonymized manifest.
 */
const manifestPublicKeys = z
  .string()
  .regex(/^[A-Za-z0-9+/=]+(,[A-Za-z0-9+/=]+)*$/, 'must be base64 Ed25519 public keys, comma-separated')
  .refine(
    (text) =>
      text.split(',').every((item) => {
        try {
          return createPublicKey({ key: Buffer.from(item, 'base64'), format: 'der', type: 'spki' }).asymmetricKeyType === 'ed25519';
        } catch {
          return false;
        }
      }),
    'must be Ed25519 public keys printed by `syrf-db keys generate`',
  );

const snapshotId = z
  .string()
  .regex(SNAPSHOT_REF_PATTERN, 'must be "latest" or a snapshot id such as 2026-01-09 or 2026-01-09-label');

const quantity = z.string().regex(/^\d+(\.\d+)?(m|Ki|Mi|Gi|Ti)?$/, 'must be a Kubernetes quantity such as 500m or 1Gi');
const resources = z
  .object({
    requests: z.object({ cpu: quantity, memory: quantity }).strict(),
    limits: z.object({ cpu: quantity, memory: quantity }).strict(),
  })
  .strict();
export type JobResources = z.infer<typeof resources>;

const atlasProject = z.union([
  z.object({ projectRef: z.object({ name: z.string().min(1), namespace: z.string().min(1).optional() }).strict() }).strict(),
  z
    .object({
      externalProjectId: z.string().regex(/^[0-9a-f]{24}$/, 'must be the 24-hex-digit Atlas project id'),
      connectionSecret: z.string().min(1),
    })
    .strict(),
]);
export type AtlasProjectReference = z.infer<typeof atlasProject>;

const namespaceName = z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
/** A non-production stack must name its own cluster; a name that says prod is refused rather than trusted. */
const nonProdCluster = z
  .string()
  .min(1)
  .refine((name) => !/(^|[-_.])prod(uction)?([-_.]|$)/i.test(name), 'must be the non-production cluster, not a production one');

const common = {
  gcpProject: z.string().regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, 'must be a GCP project id'),
  namespace: namespaceName.default(DEFAULT_NAMESPACE),
  image: z
    .string()
    .regex(/^[^\s:@]+(:[\w][\w.-]{0,127})?(@sha256:[0-9a-f]{64})?$/, 'must be an image reference')
    .refine((ref) => /@sha256:|:(?!latest$)[\w][\w.-]*$/.test(ref), 'must be pinned to a version tag or digest, not latest'),
  bucketName: z.string().regex(/^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$/).default('syrf-db-snapshots'),
  /** Host of the Atlas cluster's SRV record, e.g. syrf.abcde.mongodb.net. */
  mongoHost: z.string().regex(/^[a-z0-9.-]+$/, 'must be a host name without scheme or credentials'),
  atlasProject,
  atlasClusterName: z.string().min(1),
  pushgatewayUrl: z.url().optional(),
  jobResources: resources.default({
    requests: { cpu: '250m', memory: '512Mi' },
    limits: { cpu: '1', memory: '1Gi' },
  }),
};

const prodSchema = z
  .object({
    ...common,
    bucketLocation: z.string().default('europe-west2'),
    snapshotRetentionDays: z.coerce.number().int().min(1).max(3650).default(30),
    noncurrentRetentionDays: z.coerce.number().int().min(1).max(365).default(7),
    labels: z.record(z.string().regex(/^[a-z][a-z0-9_-]{0,62}$/), z.string().regex(/^[a-z0-9_-]{0,63}$/)).default({
      app: 'syrf',
      component: 'db-snapshots',
      'managed-by': 'pulumi',
    }),
    schedule: z.string().regex(/^(\S+\s+){4}\S+$/, 'must be a five-field cron expression').default('0 3 * * *'),
    keepDaily: z.coerce.number().int().min(1).default(7),
    keepWeekly: z.coerce.number().int().min(0).default(4),
    /** Where preview Jobs run; the prod stack creates it with the preview restorer identity and the deployer's Role. */
    previewNamespace: namespaceName.default(DEFAULT_PREVIEW_NAMESPACE),
    /** The Google service account the PR workflow deploys as; it gets a Role in the preview namespace only. */
    previewDeployerEmail: z.email(),
    /** Published in the preview namespace for the per-PR restore Jobs. */
    manifestPublicKeys,
    ...prodOpsFields,
  })
  .strict()
  .refine((config) => config.previewNamespace !== config.namespace, {
    message: 'previewNamespace must differ from namespace: previews must not share a namespace with production secrets',
    path: ['previewNamespace'],
  });

const stagingSchema = z
  .object({
    ...common,
    atlasClusterName: nonProdCluster,
    /** The prod stack's `restorerServiceAccountEmail` output. */
    restorerServiceAccountEmail: z.email(),
    snapshotId: snapshotId.default('latest'),
    /** For the staging refresh, scheduled refresh and drill Jobs. */
    manifestPublicKeys,
    /** Set by the staging refresh workflow (its run id); each new value runs one refresh Job. */
    refreshId: z.string().regex(/^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$/).optional(),
    ...stagingOpsFields,
  })
  .strict();

const collectionName = z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/, 'must be a collection name');
const booleanText = z.preprocess((value) => (value === 'true' ? true : value === 'false' ? false : value), z.boolean());
const previewSchema = z
  .object({
    ...common,
    // Fixed, not configurable: the namespace the prod stack prepared without production secrets.
    namespace: z.literal(DEFAULT_PREVIEW_NAMESPACE).default(DEFAULT_PREVIEW_NAMESPACE),
    atlasClusterName: nonProdCluster,
    /** Set by the close flow: declare only the PR's user and the Job that drops its database. */
    teardown: booleanText.default(false),
    prNumber: z.coerce.number().int().positive(),
    dbSource: z.enum(['seed', 'snapshot', 'staging']).default('seed'),
    snapshotId: snapshotId.default('latest'),
    collections: z
      .preprocess((value) => (typeof value === 'string' ? value.split(',').map((s) => s.trim()).filter(Boolean) : value), z.array(collectionName))
      .default([]),
  })
  .strict();

export type ProdConfig = z.infer<typeof prodSchema> & { kind: 'prod'; stack: string };
export type StagingConfig = z.infer<typeof stagingSchema> & { kind: 'staging'; stack: string };
export type PreviewConfig = z.infer<typeof previewSchema> & { kind: 'preview'; stack: string };
export type StackConfig = ProdConfig | StagingConfig | PreviewConfig;
export type CommonConfig = Pick<StackConfig, keyof typeof common>;

export class StackConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StackConfigError';
  }
}

/**
 * Pulumi hands config over as strings keyed `project:key`; objects and
 * arrays arrive as JSON text. Only this project's keys are ours to check.
 */
export function rawProjectConfig(all: Record<string, string>, project = PROJECT_NAME): Record<string, unknown> {
  const raw: Record<string, unknown> = {};
  const prefix = `${project}:`;
  for (const [key, value] of Object.entries(all)) {
    if (!key.startsWith(prefix)) continue;
    raw[key.slice(prefix.length)] = /^\s*[[{]/.test(value) ? parseJson(key, value) : value;
  }
  return raw;
}

function parseJson(key: string, value: string): unknown {
  try {
    return JSON.parse(value) as unknown;
  } catch {
    throw new StackConfigError(`config ${key} looks like JSON but does not parse: ${value.slice(0, 80)}`);
  }
}

const schemas: Record<StackKind, z.ZodType> = { prod: prodSchema, staging: stagingSchema, preview: previewSchema };

/** Validates one stack's config; throws StackConfigError listing every problem with its key. */
export function parseStackConfig(stack: string, raw: Record<string, unknown>): StackConfig {
  const kind = stackKindOf(stack);
  if (kind === undefined) {
    throw new StackConfigError(
      `stack "${stack}" is not one this program knows: use "prod", "staging" or "pr-<number>" (e.g. pr-123)`,
    );
  }
  const input = kind.kind === 'preview' ? { prNumber: kind.prNumber, ...raw } : raw;
  const result = schemas[kind.kind].safeParse(input);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `  - ${PROJECT_NAME}:${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw new StackConfigError(
      `stack "${stack}" has invalid configuration:\n${problems.join('\n')}\n` +
        `Fix it with \`pulumi config set ${PROJECT_NAME}:<key> <value> --stack ${stack}\` (objects: --path or JSON).`,
    );
  }
  const config = { ...(result.data as object), kind: kind.kind, stack } as StackConfig;
  // Preview users live in the preview namespace; the AtlasProject they name stays where the shared config put it.
  if (config.kind === 'preview' && 'projectRef' in config.atlasProject && config.atlasProject.projectRef.namespace === undefined) {
    config.atlasProject = { projectRef: { ...config.atlasProject.projectRef, namespace: DEFAULT_NAMESPACE } };
  }
  if (config.kind === 'preview' && config.prNumber !== kind.prNumber) {
    throw new StackConfigError(
      `stack "${stack}" has ${PROJECT_NAME}:prNumber=${config.prNumber}; a PR stack must be named after its PR (pr-${config.prNumber}) so it can only target its own database`,
    );
  }
  return config;
}
