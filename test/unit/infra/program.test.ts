import { readFileSync } from 'node:fs';
import yaml from 'js-yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { CronJob } from 'kubernetes-models/batch/v1/CronJob';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Secret } from 'kubernetes-models/v1/Secret';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { declare, isSecretWrapped, type Declared } from './declare.js';
import { PRODUCTION_SECRETS } from '../../../infra/names.js';
import { policies } from '../../../infra/policy/policies.js';
import { podSpecOf, referencedSecrets } from '../../../infra/policy/invariants.js';
import { MANIFEST_PUBLIC_KEY, prodConfig, previewConfig, stagingConfig } from './fixtures.js';

/**
 * Runs the real program under Pulumi's mocks, records every resource it
 * registers, and asserts on the recorded inputs: what `pulumi up` would
 * send to the providers.
 */

function ofType(resources: Declared[], type: string): Declared[] {
  return resources.filter((r) => r.type === type);
}
function single(resources: Declared[], type: string): Declared {
  const found = ofType(resources, type);
  expect(found, type).toHaveLength(1);
  return found[0]!;
}

function validateKubernetes(resources: Declared[]): void {
  const models: Record<string, (inputs: Record<string, any>) => { validate(): void }> = {
    'kubernetes:batch/v1:CronJob': (i) => new CronJob({ metadata: i['metadata'], spec: i['spec'] }),
    'kubernetes:batch/v1:Job': (i) => new Job({ metadata: i['metadata'], spec: i['spec'] }),
    'kubernetes:core/v1:ConfigMap': (i) => new ConfigMap({ metadata: i['metadata'], data: i['data'], immutable: i['immutable'] }),
    'kubernetes:core/v1:Secret': (i) => new Secret({ metadata: i['metadata'], type: i['type'], stringData: i['stringData'] }),
    'kubernetes:core/v1:ServiceAccount': (i) => new ServiceAccount({ metadata: i['metadata'], automountServiceAccountToken: i['automountServiceAccountToken'] }),
    'kubernetes:core/v1:Namespace': (i) => new Namespace({ metadata: i['metadata'] }),
    'kubernetes:rbac.authorization.k8s.io/v1:Role': (i) => new Role({ metadata: i['metadata'], rules: i['rules'] }),
    'kubernetes:rbac.authorization.k8s.io/v1:RoleBinding': (i) => new RoleBinding({ metadata: i['metadata'], roleRef: i['roleRef'], subjects: i['subjects'] }),
  };
  const kubernetes = resources.filter((r) => r.type.startsWith('kubernetes:') && !r.type.includes('atlas.mongodb.com'));
  expect(kubernetes.length).toBeGreaterThan(0);
  for (const resource of kubernetes) {
    const model = models[resource.type];
    expect(model, `no schema model for ${resource.type}`).toBeDefined();
    expect(() => model!(resource.inputs).validate(), `${resource.type} ${resource.name}`).not.toThrow();
  }
}

/** Every policy of the pack passes on every declared resource. */
function policyViolations(resources: Declared[]): string[] {
  const violations: string[] = [];
  for (const resource of resources) {
    for (const policy of policies) {
      const validate = policy.validateResource;
      const validations = Array.isArray(validate) ? validate : validate === undefined ? [] : [validate];
      for (const check of validations) {
        void check({ type: resource.type, props: resource.inputs, urn: resource.urn, name: resource.name } as never, (message) =>
          violations.push(`${policy.name} on ${resource.name}: ${message}`),
        );
      }
    }
  }
  return violations;
}

function atlasRoles(resources: Declared[]): { username: string; roles: unknown }[] {
  return ofType(resources, 'kubernetes:atlas.mongodb.com/v1:AtlasDatabaseUser').map((r) => ({
    username: r.inputs['spec'].username,
    roles: r.inputs['spec'].roles,
  }));
}

describe('prod stack', () => {
  let resources: Declared[];
  let outputs: Record<string, unknown>;
  beforeAll(async () => {
    ({ resources, outputs } = await declare(prodConfig()));
  });

  it('publishes the manifest public keys in the preview namespace for the per-PR restore Jobs', () => {
    const maps = resources.filter((r) => r.type === 'kubernetes:core/v1:ConfigMap' && r.inputs['metadata'].name === 'syrf-manifest-public-keys');
    expect(maps.map((m) => [m.inputs['metadata'].namespace, m.inputs['data']])).toEqual([['syrf-db-previews', { 'public-keys': MANIFEST_PUBLIC_KEY }]]);
    expect(() => prodConfig({ manifestPublicKeys: undefined })).toThrow(/manifestPublicKeys/);
    expect(() => prodConfig({ manifestPublicKeys: 'bm90IGEga2V5' })).toThrow(/Ed25519 public keys/);
  });

  it('declares a private, versioned bucket with a 30-day lifecycle in europe-west2', () => {
    const bucket = single(resources, 'gcp:storage/bucket:Bucket').inputs;
    expect(bucket).toMatchObject({
      name: 'syrf-db-snapshots',
      location: 'europe-west2',
      publicAccessPrevention: 'enforced',
      uniformBucketLevelAccess: true,
      versioning: { enabled: true },
    });
    expect(bucket['lifecycleRules']).toContainEqual({ action: { type: 'Delete' }, condition: { age: 30, withState: 'LIVE' } });
    expect(bucket['labels']).toMatchObject({ app: 'syrf' });
  });

  it('grants the producer objectAdmin on prod/ and the restorer objectViewer on anonymized objects only', () => {
    const grants = ofType(resources, 'gcp:storage/bucketIAMMember:BucketIAMMember').map((r) => r.inputs);
    expect(grants).toHaveLength(2);
    const producer = grants.find((g) => g['member'] === 'serviceAccount:syrf-db-producer@camarades-syrf.iam.gserviceaccount.com');
    const restorer = grants.find((g) => g['member'] === 'serviceAccount:syrf-db-restorer@camarades-syrf.iam.gserviceaccount.com');
    expect(producer?.['role']).toBe('roles/storage.objectAdmin');
    expect(producer?.['condition'].expression).toContain('resource.name.startsWith("projects/_/buckets/syrf-db-snapshots/objects/prod/")');
    expect(restorer?.['role']).toBe('roles/storage.objectViewer');
    expect(restorer?.['condition'].expression).toContain('resource.name == "projects/_/buckets/syrf-db-snapshots/objects/prod/latest.txt"');
    expect(restorer?.['condition'].expression).toContain('endsWith("/dump.gz")');
  });

  it('binds each KSA to its GSA through Workload Identity, with no keys', () => {
    const bindings = ofType(resources, 'gcp:serviceaccount/iAMMember:IAMMember').map((r) => r.inputs);
    expect(bindings.map((b) => [b['role'], b['member'], b['serviceAccountId']]).sort()).toEqual([
      [
        'roles/iam.workloadIdentityUser',
        'serviceAccount:camarades-syrf.svc.id.goog[syrf-db-previews/syrf-db-restorer]',
        'projects/camarades-syrf/serviceAccounts/syrf-db-restorer@camarades-syrf.iam.gserviceaccount.com',
      ],
      [
        'roles/iam.workloadIdentityUser',
        'serviceAccount:camarades-syrf.svc.id.goog[syrf-system/syrf-db-producer]',
        'projects/camarades-syrf/serviceAccounts/syrf-db-producer@camarades-syrf.iam.gserviceaccount.com',
      ],
      [
        'roles/iam.workloadIdentityUser',
        'serviceAccount:camarades-syrf.svc.id.goog[syrf-system/syrf-db-restorer]',
        'projects/camarades-syrf/serviceAccounts/syrf-db-restorer@camarades-syrf.iam.gserviceaccount.com',
      ],
    ]);
    const ksas = ofType(resources, 'kubernetes:core/v1:ServiceAccount').map((r) => r.inputs['metadata']);
    expect(ksas).toContainEqual(
      expect.objectContaining({
        name: 'syrf-db-producer',
        annotations: { 'iam.gke.io/gcp-service-account': 'syrf-db-producer@camarades-syrf.iam.gserviceaccount.com' },
      }),
    );
    expect(ofType(resources, 'gcp:serviceaccount/key:Key')).toEqual([]);
  });

  it('schedules the hardened producer CronJob at 03:00 UTC with secrets by reference', () => {
    const cron = single(resources, 'kubernetes:batch/v1:CronJob').inputs;
    expect(cron['spec']).toMatchObject({ schedule: '0 3 * * *', timeZone: 'Etc/UTC', concurrencyPolicy: 'Forbid' });
    expect(cron['spec'].startingDeadlineSeconds).toBeGreaterThan(0);
    const jobSpec = cron['spec'].jobTemplate.spec;
    expect(jobSpec.activeDeadlineSeconds).toBeGreaterThan(0);
    expect(jobSpec.backoffLimit).toBeGreaterThanOrEqual(0);
    const pod = jobSpec.template.spec;
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true });
    expect(pod.volumes).toContainEqual({ name: 'tmp', emptyDir: { sizeLimit: '2Gi' } });
    for (const container of [...pod.initContainers, ...pod.containers]) {
      expect(container.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
      expect(JSON.stringify(container.env ?? [])).not.toMatch(/"value":/);
    }
    const snapshot = pod.initContainers[0];
    expect(snapshot.env).toEqual([
      { name: 'MONGO_URI', valueFrom: { secretKeyRef: { name: 'syrf-db-producer-mongo', key: 'connection-string' } } },
      // Without it the producer refuses to publish an anonymized snapshot (no development flag in production).
      { name: 'SYRF_MANIFEST_SIGNING_KEY', valueFrom: { secretKeyRef: { name: 'syrf-manifest-signing-key', key: 'key' } } },
    ]);
    expect(snapshot.args).not.toContain('--allow-unsigned');
    const rulesMount = pod.volumes.find((v: any) => v.configMap)?.configMap.name;
    expect(rulesMount).toBe(outputs['rulesConfigMapName']);
  });

  it('creates a read-only producer database user on syrftest with a generated password', () => {
    expect(atlasRoles(resources)).toEqual([{ username: 'syrf-db-producer', roles: [{ roleName: 'read', databaseName: 'syrftest' }] }]);
    const declared = single(resources, 'kubernetes:core/v1:Secret');
    // The password is a Pulumi secret: encrypted in state, masked in CLI output.
    expect(isSecretWrapped(declared.rawInputs['stringData'])).toBe(true);
    const secret = declared.inputs;
    expect(secret['metadata']).toMatchObject({ name: 'syrf-db-producer-mongo', namespace: 'syrf-system', labels: { 'atlas.mongodb.com/type': 'credentials' } });
    expect(secret['stringData']['connection-string']).toMatch(/^mongodb\+srv:\/\/syrf-db-producer:Mocked0Password/);
  });

  it('exports bucket name, service account emails and job names', () => {
    expect(outputs).toMatchObject({
      bucketName: 'syrf-db-snapshots',
      producerServiceAccountEmail: 'syrf-db-producer@camarades-syrf.iam.gserviceaccount.com',
      restorerServiceAccountEmail: 'syrf-db-restorer@camarades-syrf.iam.gserviceaccount.com',
      producerCronJobName: 'snapshot-producer',
    });
  });

  it('passes the Kubernetes schema and every policy', () => {
    validateKubernetes(resources);
    expect(policyViolations(resources)).toEqual([]);
  });
});

describe('per-PR stack with a snapshot source', () => {
  let resources: Declared[];
  let outputs: Record<string, unknown>;
  beforeAll(async () => {
    ({ resources, outputs } = await declare(previewConfig(42, { dbSource: 'snapshot', snapshotId: '2026-01-09', collections: ['pmProject'] })));
  });

  it('restores into exactly syrf_pr_42, in the preview namespace, after waiting for its database user', () => {
    const job = single(resources, 'kubernetes:batch/v1:Job').inputs;
    // Argo CD runs hooks only for manifests in its Application's source; a Pulumi-created Job is not one.
    expect(JSON.stringify(job['metadata'].annotations ?? {})).not.toContain('argocd.argoproj.io');
    expect(job['metadata'].namespace).toBe('syrf-db-previews');
    const pod = job['spec'].template.spec;
    expect(pod.initContainers.map((c: any) => c.args)).toEqual([['--log-format', 'json', 'ping', '--wait', '15m']]);
    expect(pod.initContainers[0].env).toEqual([{ name: 'MONGO_URI', valueFrom: { secretKeyRef: { name: 'syrf-db-pr-42-mongo', key: 'connection-string' } } }]);
    // Restores check manifest signatures against the keys the prod stack published in this namespace.
    expect(pod.containers[0].env).toContainEqual({
      name: 'SYRF_MANIFEST_PUBLIC_KEYS',
      valueFrom: { configMapKeyRef: { name: 'syrf-manifest-public-keys', key: 'public-keys', optional: false } },
    });
    const args: string[] = job['spec'].template.spec.containers[0].args;
    expect(args.filter((a) => a.startsWith('syrf_'))).toEqual(['syrf_pr_42']);
    expect(args[args.indexOf('--snapshot') + 1]).toBe('2026-01-09');
    expect(outputs).toMatchObject({ previewJobName: 'snapshot-restore-pr-42', previewDatabaseName: 'syrf_pr_42' });
  });

  it('never references the production Mongo secret or the HMAC key, only its own user', () => {
    const job = single(resources, 'kubernetes:batch/v1:Job').inputs;
    const secrets = referencedSecrets(podSpecOf({ kind: 'Job', spec: job['spec'] }) ?? {});
    expect(secrets).toEqual(['syrf-db-pr-42-mongo']);
    expect(JSON.stringify(job)).not.toMatch(new RegExp(PRODUCTION_SECRETS.join('|')));
    expect(JSON.stringify(job)).not.toContain('--key-file');
  });

  it('creates a PR user with readWrite and dbAdmin on syrf_pr_42 only', () => {
    expect(atlasRoles(resources)).toEqual([
      {
        username: 'syrf-db-pr-42',
        roles: [
          { roleName: 'readWrite', databaseName: 'syrf_pr_42' },
          { roleName: 'dbAdmin', databaseName: 'syrf_pr_42' },
        ],
      },
    ]);
  });

  it('declares no bucket, service account or CronJob', () => {
    expect(resources.filter((r) => r.type.startsWith('gcp:'))).toEqual([]);
    expect(ofType(resources, 'kubernetes:batch/v1:CronJob')).toEqual([]);
  });

  it('passes the Kubernetes schema and every policy', () => {
    validateKubernetes(resources);
    expect(policyViolations(resources)).toEqual([]);
  });
});

describe('per-PR stack cloning staging', () => {
  let resources: Declared[];
  beforeAll(async () => {
    ({ resources } = await declare(previewConfig(43, { dbSource: 'staging' })));
  });

  it('clones syrf_staging into syrf_pr_43 and adds read on syrf_staging to the PR user', () => {
    const args: string[] = single(resources, 'kubernetes:batch/v1:Job').inputs['spec'].template.spec.containers[0].args;
    expect(args).toEqual(expect.arrayContaining(['clone', '--from', 'syrf_staging', '--target', 'syrf_pr_43']));
    expect(atlasRoles(resources)[0]?.roles).toEqual([
      { roleName: 'readWrite', databaseName: 'syrf_pr_43' },
      { roleName: 'dbAdmin', databaseName: 'syrf_pr_43' },
      { roleName: 'read', databaseName: 'syrf_staging' },
    ]);
    expect(ofType(resources, 'kubernetes:core/v1:ConfigMap')).toEqual([]);
    expect(policyViolations(resources)).toEqual([]);
  });
});

describe('per-PR stack with seed data', () => {
  it('declares nothing: the app seeds itself', async () => {
    const { resources, outputs } = await declare(previewConfig(44));
    expect(resources.filter((r) => !r.type.startsWith('syrf:'))).toEqual([]);
    expect(outputs['previewJobName']).toBeUndefined();
  });
});

describe('staging stack', () => {
  let resources: Declared[];
  let outputs: Record<string, unknown>;
  beforeAll(async () => {
    ({ resources, outputs } = await declare(stagingConfig({ refreshId: '1234-1' })));
  });

  it('binds the staging KSA to the restorer GSA and runs one confirmed refresh Job', () => {
    expect(single(resources, 'gcp:serviceaccount/iAMMember:IAMMember').inputs).toMatchObject({
      role: 'roles/iam.workloadIdentityUser',
      member: 'serviceAccount:camarades-syrf.svc.id.goog[syrf-system/syrf-db-staging]',
    });
    const job = single(resources, 'kubernetes:batch/v1:Job').inputs;
    expect(job['metadata'].name).toBe('staging-refresh-1234-1');
    expect(job['spec'].template.spec.containers[0].args).toEqual(expect.arrayContaining(['--target', 'syrf_staging', '--confirm', 'refresh-staging']));
    expect(outputs['stagingRefreshJobName']).toBe('staging-refresh-1234-1');
  });

  it('gives the staging user readWrite and dbAdmin on syrf_staging only', () => {
    expect(atlasRoles(resources)).toEqual([
      {
        username: 'syrf-db-staging',
        roles: [
          { roleName: 'readWrite', databaseName: 'syrf_staging' },
          { roleName: 'dbAdmin', databaseName: 'syrf_staging' },
        ],
      },
    ]);
  });

  it('passes the Kubernetes schema and every policy', () => {
    validateKubernetes(resources);
    expect(policyViolations(resources)).toEqual([]);
  });
});

describe('per-PR stack in teardown mode (the close flow)', () => {
  it('declares only the PR user and a Job that drops syrf_pr_<N> through the guard, even for a seed PR', async () => {
    const { resources, outputs } = await declare(previewConfig(45, { teardown: 'true' }));
    const job = single(resources, 'kubernetes:batch/v1:Job').inputs;
    expect(job['metadata']).toMatchObject({ name: 'drop-preview-pr-45', namespace: 'syrf-db-previews' });
    const pod = job['spec'].template.spec;
    expect(pod.containers.map((c: any) => c.args)).toEqual([['--log-format', 'json', 'drop', '--target', 'syrf_pr_45']]);
    expect(pod.serviceAccountName).toBeUndefined();
    expect(atlasRoles(resources)).toEqual([
      { username: 'syrf-db-pr-45', roles: [{ roleName: 'readWrite', databaseName: 'syrf_pr_45' }, { roleName: 'dbAdmin', databaseName: 'syrf_pr_45' }] },
    ]);
    const user = single(resources, 'kubernetes:atlas.mongodb.com/v1:AtlasDatabaseUser').inputs;
    expect(user['metadata'].annotations).toEqual({ 'mongodb.com/atlas-resource-policy': 'delete' });
    expect(ofType(resources, 'kubernetes:core/v1:ConfigMap')).toEqual([]);
    expect(outputs['previewJobName']).toBe('drop-preview-pr-45');
    expect(policyViolations(resources)).toEqual([]);
  });

  it('refuses to put a non-production stack on a production cluster', () => {
    expect(() => previewConfig(46, { atlasClusterName: 'syrf-prod' })).toThrow(/atlasClusterName: must be the non-production cluster/);
    expect(() => stagingConfig({ atlasClusterName: 'Production' })).toThrow(/non-production cluster/);
  });

  it('exports only defined outputs (Pulumi warns about undefined ones)', async () => {
    const { definedOutputs } = await import('../../../infra/program.js');
    expect(definedOutputs({ bucketName: 'b', previewJobName: undefined })).toEqual({ bucketName: 'b' });
    const index = readFileSync(new URL('../../../infra/index.ts', import.meta.url), 'utf8');
    expect(index).not.toMatch(/^export const /m);
    expect(index).toMatch(/^export default definedOutputs\(/m);
  });
});

describe('committed stack files', () => {
  it.each(['prod', 'staging'])('Pulumi.%s.yaml passes the config schema', async (stack) => {
    const { parseStackConfig, rawProjectConfig } = await import('../../../infra/config.js');
    const file = readFileSync(new URL(`../../../Pulumi.${stack}.yaml`, import.meta.url), 'utf8');
    const config = (yaml.load(file) as { config: Record<string, unknown> }).config;
    const flat = Object.fromEntries(Object.entries(config).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
    expect(() => parseStackConfig(stack, rawProjectConfig(flat))).not.toThrow();
  });

  it('turn the daily restore drill on: prod declares its identity, staging runs it as that identity', async () => {
    const { parseStackConfig, rawProjectConfig } = await import('../../../infra/config.js');
    const parsed = (stack: string) => {
      const config = (yaml.load(readFileSync(new URL(`../../../Pulumi.${stack}.yaml`, import.meta.url), 'utf8')) as { config: Record<string, unknown> }).config;
      return parseStackConfig(stack, rawProjectConfig(Object.fromEntries(Object.entries(config).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)])))) as unknown as Record<string, unknown>;
    };
    expect(parsed('prod')['restoreDrill']).toBe(true);
    expect(parsed('staging')['drillServiceAccountEmail']).toMatch(/^syrf-db-drill@/);
  });
});
