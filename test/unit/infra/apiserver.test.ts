/**
 * Every Kubernetes object the prod, staging and PR stacks declare (rendered from the
 * real program under Pulumi mocks) is applied to a real kube-apiserver with
 * server-side dry-run and strict field validation, in namespaces enforcing Pod
 * Security `restricted`; the Atlas users validate against the operator's real CRD.
 * Job pod templates are also admitted as Pods, since Pod Security enforces on Pods.
 * Locally a missing kube-apiserver/etcd skips; in CI (CI=true) it fails.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubeBinaries, startKubeApiServer, type KubeApi } from '../../servers/kube.js';
import { DEFAULT_NAMESPACE, DEFAULT_PREVIEW_NAMESPACE } from '../../../infra/names.js';
import { podSpecOf } from '../../../infra/policy/invariants.js';
import { declare, type Declared } from './declare.js';
import { prodConfig, previewConfig, stagingConfig } from './fixtures.js';

const binDir = process.env.SYRF_TOOLS_BIN ?? join(homedir(), '.cache/syrf-db-tools/bin');
const tools = kubeBinaries(binDir);
const crdFile = join(tools.atlasCrds, 'current', 'atlas.mongodb.com_atlasdatabaseusers.yaml');
const available = [tools.apiserver, tools.etcd, crdFile].every((f) => existsSync(f));

interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [key: string]: unknown };
  [key: string]: unknown;
}

/** `kubernetes:batch/v1:Job` + inputs → the object kubectl would send. */
function toObject(resource: Declared): KubeObject {
  const match = /^kubernetes:(.+):([A-Za-z]+)$/.exec(resource.type)!;
  const groupVersion = match[1]!.replace(/^core\//, '');
  return { apiVersion: groupVersion, kind: match[2]!, ...resource.inputs } as KubeObject;
}

function pathOf(object: KubeObject): string {
  const [group, version] = object.apiVersion.includes('/') ? object.apiVersion.split('/') : ['', object.apiVersion];
  const base = group === '' ? `/api/${version}` : `/apis/${group}/${version}`;
  const plural = `${object.kind.toLowerCase()}s`;
  const scope = object.metadata.namespace === undefined ? '' : `/namespaces/${object.metadata.namespace}`;
  return `${base}${scope}/${plural}/${object.metadata.name}`;
}

async function dryRunApply(api: KubeApi, object: KubeObject) {
  return api.call('PATCH', `${pathOf(object)}?dryRun=All&fieldManager=syrf-db-tools-test&fieldValidation=Strict&force=true`, object, 'application/apply-patch+yaml');
}

/** Pod Security enforces on Pods, not on Job templates: admit each template as the Pod it becomes. */
function podsOf(object: KubeObject): KubeObject[] {
  const spec = podSpecOf(object as never);
  if (spec === undefined) return [];
  return [{ apiVersion: 'v1', kind: 'Pod', metadata: { name: `${object.metadata.name}-pod`, namespace: object.metadata.namespace! }, spec }];
}

describe.runIf(available || process.env.CI === 'true')('rendered stacks on a real kube-apiserver', () => {
  let api: KubeApi;
  const objects: KubeObject[] = [];

  beforeAll(async () => {
    expect(available, `kube-apiserver, etcd and the Atlas CRD under ${binDir} (test/servers/install-infra-tools.sh)`).toBe(true);
    api = await startKubeApiServer(binDir);
    const crd = yaml.load(readFileSync(crdFile, 'utf8')) as KubeObject;
    const created = await api.call('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd);
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    for (const name of [DEFAULT_NAMESPACE, DEFAULT_PREVIEW_NAMESPACE]) {
      const ns = await api.call('POST', '/api/v1/namespaces', {
        apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } },
      });
      expect(ns.status).toBe(201);
    }
    // The CRD serves once established; poll until a list answers.
    for (let i = 0; i < 100; i++) {
      if ((await api.call('GET', `/apis/atlas.mongodb.com/v1/namespaces/${DEFAULT_NAMESPACE}/atlasdatabaseusers`)).status === 200) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    for (const config of [
      prodConfig(),
      stagingConfig({ refreshId: '1234-1' }),
      previewConfig(42, { dbSource: 'snapshot', collections: ['pmProject'] }),
      previewConfig(43, { dbSource: 'staging' }),
      previewConfig(44, { teardown: 'true' }),
    ]) {
      const { resources } = await declare(config);
      objects.push(...resources.filter((r) => r.type.startsWith('kubernetes:')).map(toObject));
    }
    // Pods are admitted only with their service account present; no controller creates `default` here.
    const accounts = objects.filter((o) => o.kind === 'ServiceAccount').map((o) => [o.metadata.namespace!, o.metadata.name] as const);
    for (const [namespace, name] of [...accounts, [DEFAULT_NAMESPACE, 'default'], [DEFAULT_PREVIEW_NAMESPACE, 'default']] as const) {
      await api.call('POST', `/api/v1/namespaces/${namespace}/serviceaccounts`, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace } });
    }
  }, 240_000);

  afterAll(async () => {
    await api?.stop();
  });

  it('renders every kind the stacks declare', () => {
    expect([...new Set(objects.map((o) => o.kind))].sort()).toEqual(
      ['AtlasDatabaseUser', 'ConfigMap', 'CronJob', 'Job', 'Namespace', 'Role', 'RoleBinding', 'Secret', 'ServiceAccount'],
    );
  });

  it('accepts every object with server-side dry-run and strict field validation', async () => {
    const rejected: string[] = [];
    for (const object of objects) {
      const result = await dryRunApply(api, object);
      if (result.status >= 300) rejected.push(`${object.kind} ${object.metadata.name}: ${result.status} ${JSON.stringify(result.body?.message ?? result.body)}`);
    }
    expect(rejected).toEqual([]);
  }, 120_000);

  it('admits every Job and CronJob pod under Pod Security restricted', async () => {
    const pods = objects.flatMap(podsOf);
    expect(pods.length).toBeGreaterThanOrEqual(5);
    for (const pod of pods) {
      const result = await api.call('POST', `/api/v1/namespaces/${pod.metadata.namespace}/pods?dryRun=All&fieldValidation=Strict`, pod);
      expect(result.status, `${pod.metadata.name}: ${JSON.stringify(result.body?.message)}`).toBe(201);
    }
  }, 120_000);

  it('rejects what a real cluster rejects: an unknown field, a root pod, an Atlas user off its CRD schema', async () => {
    const job = objects.find((o) => o.kind === 'Job')!;
    const typo = JSON.parse(JSON.stringify(job)) as KubeObject;
    (typo['spec'] as Record<string, unknown>)['backofLimit'] = 3;
    const typoResult = await dryRunApply(api, typo);
    // Server-side apply refuses it while typing the patch (the real server answers 500 there, not 400).
    expect(typoResult.status, JSON.stringify(typoResult.body)).toBeGreaterThanOrEqual(400);
    expect(JSON.stringify(typoResult.body)).toContain('.spec.backofLimit: field not declared in schema');

    const [pod] = podsOf(job);
    const root = JSON.parse(JSON.stringify(pod)) as KubeObject;
    const spec = root['spec'] as { securityContext: Record<string, unknown>; containers: { securityContext: Record<string, unknown> }[] };
    spec.securityContext = {};
    for (const container of spec.containers) container.securityContext = { allowPrivilegeEscalation: true };
    const rootResult = await api.call('POST', `/api/v1/namespaces/${root.metadata.namespace}/pods?dryRun=All`, root);
    expect(rootResult.status).toBe(403);
    expect(JSON.stringify(rootResult.body)).toContain('restricted');

    const user = objects.find((o) => o.kind === 'AtlasDatabaseUser')!;
    const bad = JSON.parse(JSON.stringify(user)) as KubeObject;
    (bad['spec'] as Record<string, unknown>)['roles'] = [{ role: 'readWrite', database: 'syrf_pr_42' }];
    const badResult = await dryRunApply(api, bad);
    expect(badResult.status).toBeGreaterThanOrEqual(400);
  }, 120_000);

  it('the Atlas users carry the delete policy, so destroying a stack deletes them in Atlas', () => {
    const users = objects.filter((o) => o.kind === 'AtlasDatabaseUser');
    expect(users.length).toBeGreaterThanOrEqual(5);
    for (const user of users) expect((user.metadata['annotations'] as Record<string, string>)['mongodb.com/atlas-resource-policy']).toBe('delete');
  });

  it('puts nothing of a PR stack outside the preview namespace, and no production secret inside it', () => {
    const preview = objects.filter((o) => o.metadata.namespace === DEFAULT_PREVIEW_NAMESPACE);
    expect(preview.map((o) => o.metadata.name)).not.toEqual(expect.arrayContaining([expect.stringMatching(/producer|anonymization-key|mongo-db-prod/)]));
    for (const name of ['syrf-db-pr-42', 'syrf-db-pr-43', 'syrf-db-pr-44', 'drop-preview-pr-44']) {
      const found = objects.filter((o) => o.metadata.name === name);
      expect(found.length, name).toBeGreaterThan(0);
      for (const object of found) expect(object.metadata.namespace).toBe(DEFAULT_PREVIEW_NAMESPACE);
    }
  });
});
