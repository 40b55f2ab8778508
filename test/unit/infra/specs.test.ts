import { describe, expect, it } from 'vitest';
import { CronJob } from 'kubernetes-models/batch/v1/CronJob';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { parseStackConfig, rawProjectConfig, StackConfigError } from '../../../infra/config.js';
import { bucketArgs } from '../../../infra/bucket.js';
import { producerCondition, restorerCondition, workloadIdentityMember } from '../../../infra/identities.js';
import { cronJobSpec } from '../../../infra/producer.js';
import { cloneJobSpec, previewJobSpec, restoreJobSpec } from '../../../infra/preview.js';
import { rulesConfigMapName, rulesConfigMapSpec } from '../../../infra/rules-configmap.js';
import { stagingRefreshJobSpec } from '../../../infra/staging.js';
import { previewRoles, producerRoles, stagingRoles, connectionString } from '../../../infra/db-users.js';
import { ANONYMIZATION_KEY_SECRET, PRODUCTION_SECRETS } from '../../../infra/names.js';
import { podSpecOf, referencedSecrets } from '../../../infra/policy/invariants.js';
import { nonProdCluster, prodConfig, previewConfig, RULES_YAML, sharedConfig, stagingConfig } from './fixtures.js';

function argsOf(spec: { spec?: unknown }): string[] {
  const pod = podSpecOf(spec as Record<string, unknown>);
  const containers = [...((pod?.['initContainers'] as { args: string[] }[]) ?? []), ...((pod?.['containers'] as { args: string[] }[]) ?? [])];
  return containers.flatMap((c) => c.args);
}

describe('stack config', () => {
  it('fills defaults for prod: bucket, region, 30-day lifecycle, 3 AM schedule', () => {
    const config = prodConfig();
    expect(config).toMatchObject({
      kind: 'prod',
      bucketName: 'syrf-db-snapshots',
      bucketLocation: 'europe-west2',
      snapshotRetentionDays: 30,
      schedule: '0 3 * * *',
      namespace: 'syrf-system',
    });
  });

  it('takes the PR number from the stack name and rejects a mismatching prNumber', () => {
    expect(previewConfig(42).prNumber).toBe(42);
    expect(() => parseStackConfig('pr-42', { ...sharedConfig, ...nonProdCluster, prNumber: '43' })).toThrow(/named after its PR \(pr-43\)/);
  });

  it('names every bad key in one error, with the fix', () => {
    const bad = () => parseStackConfig('prod', { ...sharedConfig, image: 'ghcr.io/x/y:latest', snapshotRetentionDays: 'soon', colour: 'red' });
    expect(bad).toThrow(StackConfigError);
    expect(bad).toThrow(/syrf-db-tools:image: must be pinned/);
    expect(bad).toThrow(/syrf-db-tools:snapshotRetentionDays/);
    expect(bad).toThrow(/colour/);
    expect(bad).toThrow(/pulumi config set/);
  });

  it('rejects unknown stack names and unknown data sources', () => {
    expect(() => parseStackConfig('dev', sharedConfig)).toThrow(/"prod", "staging" or "pr-<number>"/);
    expect(() => previewConfig(7, { dbSource: 'production' })).toThrow(/dbSource/);
  });

  it('reads Pulumi config strings, JSON objects and comma lists', () => {
    const raw = rawProjectConfig({
      'syrf-db-tools:atlasProject': '{"projectRef":{"name":"syrf"}}',
      'syrf-db-tools:collections': 'pmProject, pmStudy',
      'gcp:project': 'ignored',
    });
    expect(raw).toEqual({ atlasProject: { projectRef: { name: 'syrf' } }, collections: 'pmProject, pmStudy' });
    expect(previewConfig(5, { collections: raw['collections'], dbSource: 'snapshot' }).collections).toEqual(['pmProject', 'pmStudy']);
  });
});

describe('bucket', () => {
  it('is private, versioned and deletes live objects after the configured age', () => {
    const args = bucketArgs(prodConfig({ snapshotRetentionDays: '14' }));
    expect(args.publicAccessPrevention).toBe('enforced');
    expect(args.uniformBucketLevelAccess).toBe(true);
    expect(args.versioning).toEqual({ enabled: true });
    expect(args.location).toBe('europe-west2');
    expect(args.lifecycleRules[0]).toEqual({ action: { type: 'Delete' }, condition: { age: 14, withState: 'LIVE' } });
  });
});

describe('IAM conditions', () => {
  it('confines the producer to prod/', () => {
    expect(producerCondition('syrf-db-snapshots').expression).toBe(
      'resource.name.startsWith("projects/_/buckets/syrf-db-snapshots/objects/prod/") || ' +
        'api.getAttribute("storage.googleapis.com/objectListPrefix", "").startsWith("prod/")',
    );
  });

  it('lets restorers read only latest.txt and snapshot dump/preview/manifest objects', () => {
    const expression = restorerCondition('syrf-db-snapshots').expression;
    expect(expression).toContain('resource.name == "projects/_/buckets/syrf-db-snapshots/objects/prod/latest.txt"');
    expect(expression).toContain('resource.name.endsWith("/dump.gz")');
    expect(expression).toContain('resource.name.endsWith("/manifest.json")');
    // Per-PR restores read the preview edition by default.
    expect(expression).toContain('resource.name.endsWith("/preview.gz")');
    expect(expression).not.toContain('raw/');
    expect(expression).not.toMatch(/ATTEMPT|FAILED/);
  });

  it('builds the Workload Identity member for one namespace/KSA', () => {
    expect(workloadIdentityMember('camarades-syrf', 'syrf-system', 'syrf-db-restorer')).toBe(
      'serviceAccount:camarades-syrf.svc.id.goog[syrf-system/syrf-db-restorer]',
    );
  });
});

describe('Kubernetes objects validate against the API schema', () => {
  it('producer CronJob: nightly, no overlap, hardened, snapshot then prune', () => {
    const spec = cronJobSpec(prodConfig(), 'anonymization-rules-abc');
    expect(() => new CronJob(spec).validate()).not.toThrow();
    expect(spec.spec.schedule).toBe('0 3 * * *');
    expect(spec.spec.concurrencyPolicy).toBe('Forbid');
    const pod = spec.spec.jobTemplate.spec?.template.spec;
    expect(pod?.initContainers?.[0]?.args).toContain('snapshot');
    expect(pod?.initContainers?.[0]?.args).toContain('--anonymize');
    expect(pod?.initContainers?.[0]?.args).toEqual(expect.arrayContaining(['--check-sample', 'all']));
    expect(pod?.containers[0]?.args).toEqual(expect.arrayContaining(['prune', '--daily', '7', '--weekly', '4']));
    for (const container of [...(pod?.initContainers ?? []), ...(pod?.containers ?? [])]) {
      expect(container.securityContext).toMatchObject({
        runAsNonRoot: true,
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        capabilities: { drop: ['ALL'] },
      });
      expect(container.volumeMounts).toContainEqual({ name: 'tmp', mountPath: '/tmp' });
      expect(container.resources?.limits).toBeDefined();
    }
    expect(referencedSecrets(podSpecOf(spec as never) ?? {})).toContain(ANONYMIZATION_KEY_SECRET);
  });

  it('PR restore Job: its own database, no ArgoCD hook (Pulumi runs it), no production secret, no key', () => {
    const spec = restoreJobSpec(previewConfig(42, { dbSource: 'snapshot', collections: ['pmProject', 'pmStudy'] }), 'rules-x');
    expect(() => new Job(spec).validate()).not.toThrow();
    const args = argsOf(spec);
    expect(args[args.indexOf('--target') + 1]).toBe('syrf_pr_42');
    expect(args[args.indexOf('--collections') + 1]).toBe('pmProject,pmStudy');
    expect(args).not.toContain('--key-file');
    expect(JSON.stringify(spec.metadata.annotations ?? {})).not.toContain('argocd.argoproj.io');
    const secrets = referencedSecrets(podSpecOf(spec as never) ?? {});
    expect(secrets).toEqual(['syrf-db-pr-42-mongo']);
    expect(secrets.filter((s) => PRODUCTION_SECRETS.includes(s))).toEqual([]);
  });

  it('PR clone Job copies syrf_staging into syrf_pr_<N> without a cloud identity', () => {
    const spec = cloneJobSpec(previewConfig(9, { dbSource: 'staging' }));
    expect(() => new Job(spec).validate()).not.toThrow();
    expect(argsOf(spec)).toEqual(expect.arrayContaining(['clone', '--from', 'syrf_staging', '--target', 'syrf_pr_9']));
    expect(spec.spec.template.spec?.serviceAccountName).toBeUndefined();
  });

  it('seed declares no job at all', () => {
    expect(previewJobSpec(previewConfig(3), 'rules')).toBeUndefined();
  });

  it('staging refresh Job carries the confirmation and targets syrf_staging only', () => {
    const spec = stagingRefreshJobSpec(stagingConfig({ snapshotId: '2026-01-09' }), 'rules-s', 'run-77');
    expect(() => new Job(spec).validate()).not.toThrow();
    expect(spec.metadata.name).toBe('staging-refresh-run-77');
    expect(argsOf(spec)).toEqual(expect.arrayContaining(['--target', 'syrf_staging', '--confirm', 'refresh-staging', '--snapshot', '2026-01-09']));
    expect(referencedSecrets(podSpecOf(spec as never) ?? {})).toEqual(['syrf-db-staging-mongo']);
  });

  it('rules ConfigMap name follows the content, so a rules change rolls the jobs', () => {
    const spec = rulesConfigMapSpec('anonymization-rules', 'syrf-system', RULES_YAML);
    expect(() => new ConfigMap(spec).validate()).not.toThrow();
    expect(spec.data['anonymization-rules.yaml']).toBe(RULES_YAML);
    expect(rulesConfigMapName('r', RULES_YAML)).not.toBe(rulesConfigMapName('r', `${RULES_YAML}# changed\n`));
    expect(rulesConfigMapName('r', RULES_YAML)).toBe(rulesConfigMapName('r', RULES_YAML));
  });
});

describe('database roles', () => {
  it('grants exactly what each job needs', () => {
    expect(producerRoles()).toEqual([{ roleName: 'read', databaseName: 'syrftest' }]);
    expect(stagingRoles()).toEqual([
      { roleName: 'readWrite', databaseName: 'syrf_staging' },
      { roleName: 'dbAdmin', databaseName: 'syrf_staging' },
    ]);
    expect(previewRoles(12, 'snapshot')).toEqual([
      { roleName: 'readWrite', databaseName: 'syrf_pr_12' },
      { roleName: 'dbAdmin', databaseName: 'syrf_pr_12' },
    ]);
    expect(previewRoles(12, 'staging')).toContainEqual({ roleName: 'read', databaseName: 'syrf_staging' });
  });

  it('escapes credentials in the connection string', () => {
    expect(connectionString('h.mongodb.net', 'u@x', 'p/w')).toBe('mongodb+srv://u%40x:p%2Fw@h.mongodb.net/?authSource=admin&retryWrites=true&w=majority');
  });
});
