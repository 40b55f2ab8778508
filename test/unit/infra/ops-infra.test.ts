/**
 * The operational jobs under Pulumi's mocks: the weekly staging refresh,
 * the restore drill and its identity, the notification Secret reference,
 * and the prune metrics flags. Every declared resource must pass the
 * Kubernetes schema and every policy of the pack; every container's
 * arguments must parse with the real CLI.
 */
import * as pulumi from '@pulumi/pulumi';
import { Command } from 'commander';
import { CronJob } from 'kubernetes-models/batch/v1/CronJob';
import { beforeAll, describe, expect, it } from 'vitest';
import type { StackConfig } from '../../../infra/config.js';
import { DRILL_DATABASE, drillCronJobSpec, latestMarkerCondition } from '../../../infra/drill.js';
import { NOTIFY_WEBHOOK_ENV as INFRA_NOTIFY_ENV } from '../../../infra/ops-config.js';
import { pruneArgs } from '../../../infra/producer.js';
import { scheduledRefreshCronJobSpec } from '../../../infra/staging-schedule.js';
import { STAGING_CONFIRMATION as INFRA_CONFIRMATION } from '../../../infra/names.js';
import { PRODUCTION_SECRETS } from '../../../infra/names.js';
import { policies } from '../../../infra/policy/policies.js';
import { podSpecOf, referencedSecrets } from '../../../infra/policy/invariants.js';
import { registerCommands } from '../../../runtime/cli/commands/index.js';
import { DRILL_DB } from '../../../runtime/ops/drill.js';
import { NOTIFY_WEBHOOK_ENV } from '../../../runtime/ops/notify.js';
import { STAGING_CONFIRMATION } from '../../../runtime/restore/guard.js';
import { prodConfig, RULES_YAML, stagingConfig } from './fixtures.js';
import { isSecretWrapped } from './declare.js';

interface Declared {
  type: string;
  name: string;
  urn: string;
  inputs: Record<string, any>;
}

function plain(value: unknown): any {
  if (Array.isArray(value)) return value.map(plain);
  if (value && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    // Pulumi hands secret inputs to mocks wrapped in a signature object (not any two-key object with a `value`: an env var is one).
    if (isSecretWrapped(record)) return plain(record['value']);
    return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}

async function declare(config: StackConfig): Promise<Declared[]> {
  const resources: Declared[] = [];
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        const state: Record<string, unknown> = { ...args.inputs };
        if (args.type === 'gcp:serviceaccount/account:Account') state['email'] = `${String(args.inputs['accountId'])}@${String(args.inputs['project'])}.iam.gserviceaccount.com`;
        if (args.type === 'random:index/randomPassword:RandomPassword') state['result'] = 'Mocked0Password0For0Tests0Only000000000';
        resources.push({ type: args.type, name: args.name, urn: `urn:pulumi:${config.stack}::syrf-db-tools::${args.type}::${args.name}`, inputs: plain(args.inputs) });
        return { id: `${args.name}-id`, state };
      },
      call: (args) => args.inputs,
    },
    'syrf-db-tools',
    config.stack,
    false,
  );
  const { defineStack } = await import('../../../infra/program.js');
  const outputs = defineStack(config, RULES_YAML);
  await Promise.all(Object.values(outputs).map((value) => new Promise((resolve) => pulumi.output(value).apply(resolve))));
  // Children of components register asynchronously; wait until registration stops.
  for (let seen = -1; seen !== resources.length; ) {
    seen = resources.length;
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return resources;
}

function violations(resources: Declared[]): string[] {
  const found: string[] = [];
  for (const resource of resources) {
    for (const policy of policies) {
      const validate = policy.validateResource;
      for (const check of Array.isArray(validate) ? validate : validate ? [validate] : []) {
        void check({ type: resource.type, props: resource.inputs, urn: resource.urn, name: resource.name } as never, (message) => found.push(`${policy.name} on ${resource.name}: ${message}`));
      }
    }
  }
  return found;
}

function cronJob(resources: Declared[], name: string): Record<string, any> {
  const found = resources.filter((r) => r.type === 'kubernetes:batch/v1:CronJob' && r.inputs['metadata']?.name === name);
  expect(found, name).toHaveLength(1);
  const inputs = found[0]!.inputs;
  expect(() => new CronJob({ metadata: inputs['metadata'], spec: inputs['spec'] }).validate()).not.toThrow();
  return inputs;
}

function parseWithRealCli(args: string[]): { command: string; options: Record<string, unknown> } {
  const program = new Command().exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
  program.option('--log-format <format>').option('-q, --quiet').option('-v, --verbose');
  registerCommands(program);
  let parsed: { command: string; options: Record<string, unknown> } | undefined;
  for (const sub of program.commands) {
    sub.exitOverride();
    sub.action(() => {
      parsed = { command: sub.name(), options: sub.opts() };
    });
  }
  program.parse(args, { from: 'user' });
  if (!parsed) throw new Error(`nothing parsed: ${args.join(' ')}`);
  return parsed;
}

const container = (inputs: Record<string, any>) => (podSpecOf(inputs)! as Record<string, any>)['containers'][0] as { args: string[]; env: { name: string; valueFrom: any }[] };

describe('contract between runtime and infra for the operational jobs', () => {
  it('agrees on the drill database, the webhook variable and the staging confirmation word', () => {
    expect(DRILL_DATABASE).toBe(DRILL_DB);
    expect(INFRA_NOTIFY_ENV).toBe(NOTIFY_WEBHOOK_ENV);
    expect(INFRA_CONFIRMATION).toBe(STAGING_CONFIRMATION);
  });
});

describe('staging stack: weekly scheduled refresh', () => {
  let resources: Declared[];
  beforeAll(async () => {
    resources = await declare(stagingConfig({ pushgatewayUrl: 'http://pushgateway.monitoring:9091', notifyWebhookSecret: 'syrf-notify-webhook' }));
  });

  it('runs staging-refresh every Sunday at 05:00 UTC with the confirmation and the staleness threshold', () => {
    const inputs = cronJob(resources, 'staging-refresh-scheduled');
    expect(inputs['spec']).toMatchObject({ schedule: '0 5 * * 0', timeZone: 'Etc/UTC', concurrencyPolicy: 'Forbid' });
    // No automatic retry: a retried refresh would notify twice; next week is the retry.
    expect(inputs['spec'].jobTemplate.spec.backoffLimit).toBe(0);
    const parsed = parseWithRealCli(container(inputs).args);
    expect(parsed).toMatchObject({ command: 'staging-refresh', options: { confirm: 'refresh-staging', maxAgeHours: 48, from: 'gs://syrf-db-snapshots', pushgateway: 'http://pushgateway.monitoring:9091' } });
  });

  it('reads the Mongo URI and the webhook URL from Secrets, never a production one', () => {
    const inputs = cronJob(resources, 'staging-refresh-scheduled');
    const env = container(inputs).env;
    expect(env.find((e) => e.name === 'MONGO_URI')?.valueFrom.secretKeyRef.name).toBe('syrf-db-staging-mongo');
    expect(env.find((e) => e.name === 'SYRF_NOTIFY_WEBHOOK_URL')?.valueFrom.secretKeyRef).toEqual({ name: 'syrf-notify-webhook', key: 'url', optional: true });
    expect(JSON.stringify(env)).not.toMatch(/hooks\.slack|https?:/);
    for (const secret of referencedSecrets(podSpecOf(inputs)!)) expect(PRODUCTION_SECRETS).not.toContain(secret);
  });

  it('the manual refresh Job gets the webhook too', async () => {
    const withJob = await declare(stagingConfig({ refreshId: 'r1', notifyWebhookSecret: 'syrf-notify-webhook' }));
    const job = withJob.find((r) => r.type === 'kubernetes:batch/v1:Job')!;
    expect(JSON.stringify(podSpecOf(job.inputs))).toContain('SYRF_NOTIFY_WEBHOOK_URL');
  });

  it('takes schedule and threshold from stack config, and rejects a bad schedule', () => {
    const spec = scheduledRefreshCronJobSpec(stagingConfig({ stagingRefreshSchedule: '15 6 * * 1', stagingMaxSnapshotAgeHours: '30' }) as never);
    expect(spec.spec.schedule).toBe('15 6 * * 1');
    expect(parseWithRealCli(container(spec as never).args).options['maxAgeHours']).toBe(30);
    expect(() => stagingConfig({ stagingRefreshSchedule: 'weekly' })).toThrow(/stagingRefreshSchedule: must be a five-field cron expression/);
  });

  it('declares no drill until the drill identity is configured, and passes every policy', () => {
    expect(resources.filter((r) => r.inputs['metadata']?.name === 'restore-drill')).toHaveLength(0);
    expect(violations(resources)).toEqual([]);
  });
});

describe('restore drill', () => {
  let staging: Declared[];
  let prod: Declared[];
  beforeAll(async () => {
    prod = await declare(prodConfig({ restoreDrill: 'true', storageBudgetBytes: '50000000000', pushgatewayUrl: 'http://pushgateway.monitoring:9091', notifyWebhookSecret: 'syrf-notify-webhook' }));
    staging = await declare(stagingConfig({ drillServiceAccountEmail: 'syrf-db-drill@camarades-syrf.iam.gserviceaccount.com' }));
  });

  it('prod: a drill identity that reads what restorers read and writes only prod/latest.txt', () => {
    expect(prod.filter((r) => r.type === 'gcp:serviceaccount/account:Account').map((r) => r.inputs['accountId'])).toContain('syrf-db-drill');
    const grants = prod.filter((r) => r.type === 'gcp:storage/bucketIAMMember:BucketIAMMember' && String(r.inputs['member']).includes('syrf-db-drill'));
    expect(grants.map((g) => g.inputs['role']).sort()).toEqual(['roles/storage.objectUser', 'roles/storage.objectViewer']);
    const writer = grants.find((g) => g.inputs['role'] === 'roles/storage.objectUser')!;
    expect(writer.inputs['condition']).toEqual(latestMarkerCondition('syrf-db-snapshots'));
    expect(writer.inputs['condition'].expression).toBe('resource.name == "projects/_/buckets/syrf-db-snapshots/objects/prod/latest.txt"');
    expect(violations(prod)).toEqual([]);
  });

  it('prod: prune exports storage usage with the budget, and the producer can notify', () => {
    const producer = cronJob(prod, 'snapshot-producer');
    const pod = podSpecOf(producer)! as Record<string, any>;
    const prune = parseWithRealCli(pod['containers'][0].args);
    expect(prune).toMatchObject({ command: 'prune', options: { storageBudgetBytes: 50_000_000_000, pushgateway: 'http://pushgateway.monitoring:9091' } });
    expect(JSON.stringify(pod['initContainers'][0].env)).toContain('SYRF_NOTIFY_WEBHOOK_URL');
    expect(pruneArgs(prodConfig() as never)).not.toContain('--storage-budget-bytes');
  });

  it('staging: a daily CronJob after the 03:00 snapshot, as the drill identity, with a user for syrf_drill only', () => {
    const inputs = cronJob(staging, 'restore-drill');
    expect(inputs['spec'].schedule).toBe('30 4 * * *');
    expect(podSpecOf(inputs)!['serviceAccountName']).toBe('syrf-db-drill');
    expect(parseWithRealCli(container(inputs).args)).toMatchObject({ command: 'drill', options: { snapshot: 'latest', demote: true } });
    expect(container(inputs).env.find((e) => e.name === 'MONGO_URI')?.valueFrom.secretKeyRef.name).toBe('syrf-db-drill-mongo');
    const ksa = staging.find((r) => r.type === 'kubernetes:core/v1:ServiceAccount' && r.inputs['metadata'].name === 'syrf-db-drill')!;
    expect(ksa.inputs['metadata'].annotations['iam.gke.io/gcp-service-account']).toBe('syrf-db-drill@camarades-syrf.iam.gserviceaccount.com');
    const user = staging.find((r) => r.type === 'kubernetes:atlas.mongodb.com/v1:AtlasDatabaseUser' && r.inputs['spec'].username === 'syrf-db-drill')!;
    expect(user.inputs['spec'].roles).toEqual([
      { roleName: 'readWrite', databaseName: 'syrf_drill' },
      { roleName: 'dbAdmin', databaseName: 'syrf_drill' },
    ]);
    expect(violations(staging)).toEqual([]);
  });

  it('the policy still refuses a staging user that reaches beyond syrf_staging and syrf_drill', async () => {
    const { atlasUserViolations } = await import('../../../infra/policy/invariants.js');
    expect(atlasUserViolations('staging', { spec: { username: 'u', scopes: [{}], roles: [{ roleName: 'readWrite', databaseName: 'syrf_pr_1' }] } })).toHaveLength(1);
    expect(atlasUserViolations('staging', { spec: { username: 'u', scopes: [{}], roles: [{ roleName: 'read', databaseName: 'syrftest' }] } })).toHaveLength(1);
  });

  it('the drill CronJob spec is valid on its own', () => {
    const spec = drillCronJobSpec(stagingConfig() as never);
    expect(() => new CronJob(spec as never).validate()).not.toThrow();
  });
});
