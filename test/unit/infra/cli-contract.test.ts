/**
 * The Jobs the Pulumi program declares call the runtime's CLI; this proves
 * every argument list they use is one the real CLI accepts, so a renamed
 * flag fails here rather than in a 3 AM CronJob.
 */
import { CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../../runtime/cli/program.js';
import { cronJobSpec } from '../../../infra/producer.js';
import { cloneJobSpec, restoreJobSpec } from '../../../infra/preview.js';
import { stagingRefreshJobSpec } from '../../../infra/staging.js';
import { podSpecOf } from '../../../infra/policy/invariants.js';
import { prodConfig, previewConfig, stagingConfig } from './fixtures.js';

interface Invocation {
  command: string;
  options: Record<string, unknown>;
}

/** Parses like `syrf-db` does, but records the parsed command instead of running it. */
function parseWithRealCli(args: string[]): Invocation {
  const program = buildProgram({
    onCommanderExit: (error) => {
      throw error;
    },
    output: { writeErr: () => {}, writeOut: () => {} },
  });
  let invocation: Invocation | undefined;
  for (const sub of program.commands) {
    sub.exitOverride();
    sub.action((...received: unknown[]) => {
      invocation = { command: sub.name(), options: sub.opts() };
      void received;
    });
  }
  program.parse(args, { from: 'user' });
  if (!invocation) throw new Error(`no command ran for: ${args.join(' ')}`);
  return invocation;
}

function containerArgs(spec: { spec?: unknown }): string[][] {
  const pod = podSpecOf(spec as Record<string, unknown>);
  const containers = [...((pod?.['initContainers'] as { args: string[] }[]) ?? []), ...((pod?.['containers'] as { args: string[] }[]) ?? [])];
  return containers.map((c) => c.args);
}

describe('Job arguments against the real CLI', () => {
  // With a Pushgateway configured, so that flag is checked too.
  const push = { pushgatewayUrl: 'http://pushgateway.monitoring:9091' };
  const jobs: Array<[string, { spec?: unknown }]> = [
    ['snapshot producer CronJob', cronJobSpec(prodConfig(push), 'rules-abc')],
    ['per-PR restore Job', restoreJobSpec({ ...previewConfig(42, push), collections: ['pmProject', 'pmStudy'] } as never, 'rules-abc')],
    ['per-PR clone Job', cloneJobSpec(previewConfig(42, push) as never)],
    ['staging refresh Job', stagingRefreshJobSpec(stagingConfig(push) as never, 'rules-abc', 'r1')],
  ];

  it.each(jobs)('%s: every container runs a command with options the CLI knows', (_name, spec) => {
    const all = containerArgs(spec);
    expect(all.length).toBeGreaterThan(0);
    for (const args of all) {
      expect(() => parseWithRealCli(args), args.join(' ')).not.toThrow();
    }
    expect(all.flat()).toContain('--pushgateway');
    // The connection string comes from the MONGO_URI env var (a Secret), never from argv where `ps` shows it.
    expect(all.flat()).not.toContain('--uri');
  });

  it('the producer snapshots anonymized with the key file, then prunes', () => {
    const [snapshot, prune] = containerArgs(cronJobSpec(prodConfig(), 'rules-abc')).map(parseWithRealCli);
    expect(snapshot).toMatchObject({ command: 'snapshot', options: { anonymize: true, db: 'syrftest' } });
    expect(snapshot?.options.keyFile).toEqual(expect.any(String));
    expect(prune).toMatchObject({ command: 'prune', options: { daily: 7, weekly: 4 } });
  });

  it('the preview restore targets exactly syrf_pr_<N> with no key, and staging gets every document', () => {
    const [wait, restore] = containerArgs(restoreJobSpec(previewConfig(42) as never, 'rules-abc')).map(parseWithRealCli);
    expect(wait).toMatchObject({ command: 'ping', options: { wait: '15m' } });
    expect(restore).toMatchObject({ command: 'restore', options: { target: 'syrf_pr_42', sizeLimits: true } });
    expect(restore?.options.keyFile).toBeUndefined();
    const [, staging] = containerArgs(stagingRefreshJobSpec(stagingConfig() as never, 'rules-abc', 'r1')).map(parseWithRealCli);
    expect(staging).toMatchObject({ command: 'restore', options: { target: 'syrf_staging', confirm: 'refresh-staging', sizeLimits: false } });
  });

  it('a misspelt flag is caught', () => {
    expect(() => parseWithRealCli(['restore', '--from', 'gs://b', '--target', 'syrf_pr_1', '--colections', 'a'])).toThrow(CommanderError);
  });
});
