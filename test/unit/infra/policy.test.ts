import { describe, expect, it } from 'vitest';
import { policies } from '../../../infra/policy/policies.js';
import { cronJobSpec } from '../../../infra/producer.js';
import { cloneJobSpec, restoreJobSpec } from '../../../infra/preview.js';
import { stagingRefreshJobSpec } from '../../../infra/staging.js';
import { atlasUserSpec, previewRoles, producerRoles, stagingRoles, type DatabaseRole } from '../../../infra/db-users.js';
import { bucketArgs } from '../../../infra/bucket.js';
import { prodConfig, previewConfig, stagingConfig } from './fixtures.js';

/** Runs the whole pack against one resource, as `pulumi preview --policy-pack infra/policy` would. */
function violations(stack: string, type: string, props: unknown): string[] {
  const found: string[] = [];
  for (const policy of policies) {
    const validate = policy.validateResource;
    const checks = Array.isArray(validate) ? validate : validate === undefined ? [] : [validate];
    for (const check of checks) {
      void check(
        { type, props: JSON.parse(JSON.stringify(props)) as Record<string, unknown>, urn: `urn:pulumi:${stack}::syrf-db-tools::${type}::x`, name: 'x' } as never,
        (message) => found.push(`${policy.name}: ${message}`),
      );
    }
  }
  return found;
}

const JOB = 'kubernetes:batch/v1:Job';
const CRONJOB = 'kubernetes:batch/v1:CronJob';
const ATLAS_USER = 'kubernetes:atlas.mongodb.com/v1:AtlasDatabaseUser';

function withEnvSecret<T extends { spec: any }>(job: T, secretName: string): T {
  const copy = JSON.parse(JSON.stringify(job)) as T;
  copy.spec.template.spec.containers[0].env.push({ name: 'EXTRA', valueFrom: { secretKeyRef: { name: secretName, key: 'k' } } });
  return copy;
}

function withArgs<T extends { spec: any }>(job: T, edit: (args: string[]) => string[]): T {
  const copy = JSON.parse(JSON.stringify(job)) as T;
  const container = copy.spec.template.spec.containers[0];
  container.args = edit(container.args);
  return copy;
}

function user(roles: DatabaseRole[], scoped = true) {
  const spec = atlasUserSpec({
    resourceName: 'u',
    namespace: 'syrf-db-previews',
    username: 'u',
    roles,
    passwordSecretName: 's',
    project: { projectRef: { name: 'syrf' } },
    clusterName: 'syrf-prod',
    description: 'd',
  });
  return scoped ? spec : { ...spec, spec: { ...spec.spec, scopes: [] } };
}

describe('bucket policies', () => {
  it('accept the program bucket and reject a public one', () => {
    const bucket = bucketArgs(prodConfig());
    expect(violations('prod', 'gcp:storage/bucket:Bucket', bucket)).toEqual([]);
    expect(violations('prod', 'gcp:storage/bucket:Bucket', { ...bucket, publicAccessPrevention: 'inherited' })).toEqual([
      expect.stringContaining('publicAccessPrevention'),
    ]);
    expect(violations('prod', 'gcp:storage/bucket:Bucket', { ...bucket, uniformBucketLevelAccess: false })).toEqual([
      expect.stringContaining('uniformBucketLevelAccess'),
    ]);
  });

  it('reject public IAM grants, ACLs and service account keys', () => {
    const type = 'gcp:storage/bucketIAMMember:BucketIAMMember';
    expect(violations('prod', type, { role: 'roles/storage.objectViewer', member: 'serviceAccount:a@b.iam.gserviceaccount.com' })).toEqual([]);
    expect(violations('prod', type, { role: 'roles/storage.objectViewer', member: 'allUsers' })).toHaveLength(1);
    expect(violations('prod', 'gcp:storage/bucketIAMBinding:BucketIAMBinding', { role: 'r', members: ['allAuthenticatedUsers'] })).toHaveLength(1);
    expect(violations('prod', 'gcp:storage/bucketACL:BucketACL', { bucket: 'b' })).toHaveLength(1);
    expect(violations('prod', 'gcp:serviceaccount/key:Key', { serviceAccountId: 'x' })).toEqual([expect.stringContaining('Workload Identity')]);
  });
});

describe('workload policies', () => {
  const restore = restoreJobSpec(previewConfig(42, { dbSource: 'snapshot' }), 'rules');

  it('accept every job the program declares, in its own stack', () => {
    expect(violations('prod', CRONJOB, cronJobSpec(prodConfig(), 'rules'))).toEqual([]);
    expect(violations('pr-42', JOB, restore)).toEqual([]);
    expect(violations('pr-9', JOB, cloneJobSpec(previewConfig(9, { dbSource: 'staging' })))).toEqual([]);
    expect(violations('staging', JOB, stagingRefreshJobSpec(stagingConfig(), 'rules', '1'))).toEqual([]);
  });

  it('reject a non-production workload that references the production Mongo secret or the HMAC key', () => {
    for (const secret of ['mongo-db-prod', 'syrf-db-producer-mongo', 'syrf-anonymization-key']) {
      // Two walls: the workload rule, and the preview namespace rule.
      expect(violations('pr-42', JOB, withEnvSecret(restore, secret)).sort()).toEqual([
        `no-prod-secret-outside-prod: stack "pr-42" is not production but its workload references ${secret}`,
        `preview-namespace-isolation: a workload in syrf-db-previews references ${secret}`,
      ]);
    }
    const keyVolume = stagingRefreshJobSpec(stagingConfig(), 'rules', '1');
    keyVolume.spec.template.spec?.volumes?.push({ name: 'k', secret: { secretName: 'syrf-anonymization-key' } });
    expect(violations('staging', JOB, keyVolume)).toEqual([expect.stringContaining('syrf-anonymization-key')]);
  });

  it('reject a restore even in prod when it carries production secrets', () => {
    expect(violations('prod', JOB, withEnvSecret(restore, 'mongo-db-prod'))).toEqual(
      expect.arrayContaining([expect.stringContaining('restore/clone workload references mongo-db-prod')]),
    );
  });

  it("reject a PR job that targets anything but its own database", () => {
    const other = withArgs(restore, (args) => args.map((a) => (a === 'syrf_pr_42' ? 'syrf_pr_41' : a)));
    expect(violations('pr-42', JOB, other)).toEqual([expect.stringContaining('may only write syrf_pr_42')]);
    const prod = withArgs(restore, (args) => args.map((a) => (a === 'syrf_pr_42' ? 'syrftest' : a)));
    expect(violations('pr-42', JOB, prod)).toEqual(expect.arrayContaining([expect.stringContaining('production database syrftest')]));
  });

  it('reject restores without anonymization: raw key passed, rules missing, or an unanonymized snapshot', () => {
    const withKey = withArgs(restore, (args) => [...args, '--key-file', '/k']);
    expect(violations('pr-42', JOB, withKey)).toEqual([expect.stringContaining('--key-file')]);
    const noRules = withArgs(restore, (args) => args.filter((a, i) => a !== '--rules' && args[i - 1] !== '--rules'));
    expect(violations('pr-42', JOB, noRules)).toEqual([expect.stringContaining('lacks --rules')]);
    const cron = cronJobSpec(prodConfig(), 'rules');
    const init = cron.spec.jobTemplate.spec!.template.spec!.initContainers![0]!;
    init.args = init.args!.filter((a) => a !== '--anonymize');
    expect(violations('prod', CRONJOB, cron)).toEqual([expect.stringContaining('lacks --anonymize')]);
  });

  it('reject containers that could run as root or write their root filesystem', () => {
    const loose = JSON.parse(JSON.stringify(restore)) as typeof restore;
    const container = loose.spec.template.spec!.containers[0]!;
    container.securityContext = { ...container.securityContext, readOnlyRootFilesystem: false, allowPrivilegeEscalation: true, capabilities: {} };
    loose.spec.template.spec!.securityContext = {};
    container.securityContext.runAsNonRoot = false;
    const found = violations('pr-42', JOB, loose);
    expect(found).toHaveLength(4);
    for (const expected of ['allowPrivilegeEscalation', 'drop ALL', 'non-root', 'read-only root filesystem']) {
      expect(found).toContainEqual(expect.stringContaining(expected));
    }
  });
});

describe('database user policies', () => {
  it('accept the users the program declares', () => {
    expect(violations('prod', ATLAS_USER, user(producerRoles()))).toEqual([]);
    expect(violations('staging', ATLAS_USER, user(stagingRoles()))).toEqual([]);
    expect(violations('pr-7', ATLAS_USER, user(previewRoles(7, 'staging')))).toEqual([]);
  });

  it.each([
    ['readWriteAnyDatabase', 'admin'],
    ['dbAdminAnyDatabase', 'admin'],
    ['root', 'admin'],
    ['readAnyDatabase', 'admin'],
    ['dbOwner', 'syrf_pr_7'],
  ])('reject %s on %s', (roleName, databaseName) => {
    expect(violations('pr-7', ATLAS_USER, user([...previewRoles(7, 'snapshot'), { roleName, databaseName }]))).toEqual([
      expect.stringContaining(`${roleName}@${databaseName}`),
    ]);
  });

  it('reject any non-production access to syrftest, and PR users reaching other databases', () => {
    expect(violations('pr-7', ATLAS_USER, user([{ roleName: 'read', databaseName: 'syrftest' }]))).toEqual([expect.stringContaining('production database')]);
    expect(violations('staging', ATLAS_USER, user([{ roleName: 'read', databaseName: 'syrftest' }]))).toEqual([expect.stringContaining('production database')]);
    expect(violations('pr-7', ATLAS_USER, user([{ roleName: 'readWrite', databaseName: 'syrf_pr_8' }]))).toEqual([expect.stringContaining('may only write syrf_pr_7')]);
    expect(violations('pr-7', ATLAS_USER, user([{ roleName: 'readWrite', databaseName: 'syrf_staging' }]))).toHaveLength(1);
  });

  it('reject a producer that can write, and unscoped users', () => {
    expect(violations('prod', ATLAS_USER, user([{ roleName: 'readWrite', databaseName: 'syrftest' }]))).toEqual([expect.stringContaining('may only read syrftest')]);
    expect(violations('prod', ATLAS_USER, user(producerRoles(), false))).toEqual([expect.stringContaining('scoped')]);
  });
});
