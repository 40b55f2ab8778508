import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import yaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { stagingRefreshJobName } from '../../../infra/names.js';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../../..');
const workflowsDir = join(root, '.github/workflows');
const actionlint = join(homedir(), '.cache/syrf-db-tools/bin/actionlint');
const shellcheckOnPath = (process.env.PATH ?? '').split(':').some((dir) => existsSync(join(dir, 'shellcheck')));
// Locally a missing tool skips; in CI (CI=true) the test runs and fails, so a tool cannot silently vanish.
const lintable = (existsSync(actionlint) && shellcheckOnPath) || process.env.CI === 'true';

type Step = { name?: string; run?: string; uses?: string; if?: string; with?: Record<string, unknown>; env?: Record<string, string> };
type Job = { if?: string; env?: Record<string, string>; permissions?: Record<string, string> | string; steps: Step[] };
type Workflow = { on: Record<string, any>; env?: Record<string, string>; permissions?: unknown; jobs: Record<string, Job> };

function workflowText(name: string): string {
  return readFileSync(join(workflowsDir, name), 'utf8');
}
function workflow(name: string): Workflow {
  return yaml.load(workflowText(name)) as Workflow;
}
const workflowFiles = () => readdirSync(workflowsDir).filter((f) => f.endsWith('.yml'));

function lint(files: string[]) {
  return run(actionlint, ['-color=false', ...files], { cwd: root }).then(
    () => '',
    (error: { stdout: string }) => error.stdout,
  );
}

/** Jobs that hold deploy credentials: a cloud identity token or any repository secret. */
function privilegedJobs(wf: Workflow): [string, Job][] {
  const workflowWide = JSON.stringify(wf.permissions ?? {}).includes('"id-token":"write"') || JSON.stringify(wf.env ?? {}).includes('secrets.');
  return Object.entries(wf.jobs).filter(([, job]) => {
    const perms = typeof job.permissions === 'object' ? job.permissions : {};
    return workflowWide || perms['id-token'] === 'write' || JSON.stringify(job).includes('secrets.');
  });
}

describe('GitHub workflows', () => {
  it.runIf(lintable)('pass actionlint with shellcheck over every run: block', async () => {
    expect(existsSync(actionlint), `${actionlint} (built by test/servers/install.sh)`).toBe(true);
    expect(shellcheckOnPath, 'shellcheck on PATH (apt-get install shellcheck)').toBe(true);
    const files = workflowFiles().map((f) => join(workflowsDir, f));
    expect(files.length).toBeGreaterThanOrEqual(4);
    expect(await lint(files)).toBe('');
    const { stdout } = await run('shellcheck', [join(root, '.github/scripts/teardown-preview.sh')]).catch((e: { stdout: string }) => e);
    expect(stdout).toBe('');
  });

  it.runIf(lintable)('the lint really runs shellcheck: an unquoted variable is reported', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'syrf-actionlint-'));
    try {
      const bad = join(dir, 'bad.yml');
      writeFileSync(bad, 'on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - run: rm -rf $TARGET/*\n');
      expect(await lint([bad])).toMatch(/SC2086|shellcheck/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('no workflow that holds credentials runs on pull_request, or checks out or names PR-head code', () => {
    for (const file of workflowFiles()) {
      const wf = workflow(file);
      const text = workflowText(file);
      const privileged = privilegedJobs(wf);
      if (privileged.length === 0) continue;
      expect(Object.keys(wf.on), `${file} triggers`).not.toContain('pull_request_review');
      // The PR head can be reached by sha, ref or repository: none may appear anywhere.
      expect(text, file).not.toMatch(/pull_request\.head\.(sha|ref)|github\.head_ref|refs\/pull\/|pull_request\.merge_commit_sha/);
      for (const [name, job] of privileged) {
        // On pull_request the PR's own code runs: a job holding credentials must not run for it.
        if (Object.keys(wf.on).includes('pull_request')) expect(job.if, `${file} ${name}`).toBe("github.event_name != 'pull_request'");
        for (const step of job.steps) {
          if (step.uses?.startsWith('actions/checkout')) {
            expect(step.with?.['persist-credentials'], `${file} ${name}`).toBe(false);
            if (Object.keys(wf.on).includes('pull_request_target')) {
              expect(step.with?.['ref'], `${file} ${name}`).toBe('${{ github.event.repository.default_branch }}');
            }
          }
        }
      }
    }
  });

  it('secrets reach only the steps that deploy, never a workflow- or job-wide env', () => {
    for (const file of workflowFiles()) {
      const wf = workflow(file);
      expect(JSON.stringify(wf.env ?? {}), file).not.toContain('secrets.');
      for (const [name, job] of Object.entries(wf.jobs)) {
        expect(JSON.stringify(job.env ?? {}), `${file} ${name}`).not.toContain('secrets.');
        for (const step of job.steps) {
          const usesSecret = JSON.stringify(step).includes('secrets.');
          if (!usesSecret) continue;
          // Installing dependencies or parsing the PR body never sees a secret.
          expect(step.run ?? '', `${file} ${name} ${step.name}`).not.toMatch(/npm (ci|install)|PR_BODY|preview-config/);
        }
      }
      // Nothing gets broad token rights by default.
      expect(wf.permissions, file).toEqual(file === 'ci.yml' || file === 'image.yml' ? expect.anything() : {});
    }
  });

  it('the PR description is the only PR input, read as data through the environment', () => {
    const text = workflowText('pr-preview.yml');
    const used = new Set([...text.matchAll(/github\.event\.pull_request\.([a-z_.]+)/g)].map((m) => m[1]));
    expect([...used].sort()).toEqual(['base.ref', 'body', 'head.repo.full_name', 'number', 'state']);
    const preview = workflow('pr-preview.yml');
    for (const job of Object.values(preview.jobs)) {
      for (const step of job.steps) {
        expect(step.run ?? '', step.name).not.toContain('github.event.pull_request.body');
        if (JSON.stringify(step.env ?? {}).includes('pull_request.body')) expect(step.run).toContain('preview-config --pr-body -');
      }
    }
  });

  it('PR preview: open same-repo PRs against the default branch deploy; closed PRs only tear down; forks get a notice', () => {
    const preview = workflow('pr-preview.yml');
    expect(Object.keys(preview.on)).toEqual(['pull_request_target']);
    const deploy = preview.jobs['deploy']!;
    expect(deploy.if).toContain("github.event.pull_request.state == 'open'");
    expect(deploy.if).toContain('github.event.pull_request.head.repo.full_name == github.repository');
    expect(deploy.if).toContain('github.event.pull_request.base.ref == github.event.repository.default_branch');
    const deployScript = deploy.steps.map((s) => s.run ?? '').join('\n');
    expect(deployScript).toContain('--policy-pack infra/policy');
    expect(deployScript).not.toContain('syrf-db-tools:namespace');
    const destroy = preview.jobs['destroy']!;
    expect(destroy.if).toContain("github.event.pull_request.state == 'closed'");
    expect(destroy.steps.map((s) => s.run ?? '').join('\n')).toContain('bash .github/scripts/teardown-preview.sh "$PR_NUMBER"');
    const fork = preview.jobs['fork-notice']!;
    expect(fork.if).toContain('!= github.repository');
    expect(JSON.stringify(fork)).not.toMatch(/secrets\.|id-token|environment/);
  });

  it('PR preview keeps one sticky comment, updated in place', () => {
    const script = String(workflow('pr-preview.yml').jobs['deploy']!.steps.find((s) => s.name === 'Update the sticky comment')?.with?.['script']);
    expect(script).toContain('updateComment');
    expect(script).toContain('startsWith(MARKER)');
    expect(script.indexOf('updateComment')).toBeLessThan(script.indexOf('createComment'));
  });

  it('teardown drops the database (teardown Job) before destroying the stack', () => {
    const script = readFileSync(join(root, '.github/scripts/teardown-preview.sh'), 'utf8');
    const order = ['syrf-db-tools:teardown true', 'pulumi up --yes', 'pulumi destroy --yes --stack "$stack"', 'pulumi stack rm --yes --stack "$stack"'];
    const positions = order.map((s) => script.indexOf(s));
    expect(positions.every((p) => p >= 0), JSON.stringify(positions)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
  });

  it('staging refresh runs only from the default branch and refuses without the exact confirmation phrase', () => {
    const refresh = workflow('staging-db-refresh.yml');
    expect(Object.keys(refresh.on)).toEqual(['workflow_dispatch']);
    expect(Object.keys(refresh.on['workflow_dispatch'].inputs).sort()).toEqual(['confirm', 'snapshot_id']);
    expect(refresh.jobs['refresh']?.if).toBe(
      "inputs.confirm == 'refresh-staging' && github.ref == format('refs/heads/{0}', github.event.repository.default_branch)",
    );
    const refuse = refresh.jobs['refuse'];
    expect(refuse?.if).toBe("inputs.confirm != 'refresh-staging' || github.ref != format('refs/heads/{0}', github.event.repository.default_branch)");
    expect(refuse?.steps.at(-1)?.run).toMatch(/exit 1/);
  });

  it("the refresh's job summary carries the refresh Job's own run report, read from that Job's log", async () => {
    const summaryStep = workflow('staging-db-refresh.yml').jobs['refresh']?.steps.find((step) => step.name === 'Summary');
    expect(summaryStep?.if).toBe('always()');
    const work = mkdtempSync(join(tmpdir(), 'syrf-summary-'));
    try {
      // A stand-in kubectl that records its arguments and prints a Job log with a run report.
      const report = { kind: 'staging-refresh', snapshotId: '2026-01-09', sourceAgeSeconds: 7200, collections: 4, documents: 1234, durationSeconds: 61, outcome: 'success' };
      writeFileSync(join(work, 'kubectl'), `#!/bin/sh\necho "$@" > "${work}/kubectl-args"\necho 'not json'\necho '${JSON.stringify({ msg: 'run report', report })}'\n`, { mode: 0o755 });
      const summary = join(work, 'summary.md');
      const env = { ...process.env, PATH: `${work}:${process.env.PATH}`, GITHUB_STEP_SUMMARY: summary, GITHUB_RUN_ID: '77', GITHUB_RUN_ATTEMPT: '2', OUTCOME: 'success', SNAPSHOT_ID: 'latest' };
      await run('bash', ['-e', '-c', summaryStep?.run ?? 'exit 9'], { cwd: root, env });
      const args = readFileSync(join(work, 'kubectl-args'), 'utf8');
      const stagingNamespace = /syrf-db-tools:namespace: (\S+)/.exec(readFileSync(join(root, 'Pulumi.staging.yaml'), 'utf8'))?.[1];
      expect(args).toContain(`--namespace ${stagingNamespace}`);
      expect(args).toContain(`job/${stagingRefreshJobName('77-2')}`);
      const text = readFileSync(summary, 'utf8');
      expect(text).toContain('| Snapshot | `2026-01-09` |');
      expect(text).toContain('| Documents | 1234 |');
      // Without a readable log the step still succeeds, and says there was no report.
      writeFileSync(join(work, 'kubectl'), '#!/bin/sh\nexit 1\n', { mode: 0o755 });
      await run('bash', ['-e', '-c', summaryStep?.run ?? 'exit 9'], { cwd: root, env });
      expect(readFileSync(summary, 'utf8')).toContain('No run report in the Job log');
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });

  it('the sweep runs only from the default branch and never without a readable open-PR list', () => {
    const sweep = workflow('preview-db-sweep.yml');
    expect(sweep.jobs['sweep']?.if).toBe("github.ref == format('refs/heads/{0}', github.event.repository.default_branch)");
    const script = sweep.jobs['sweep']!.steps.map((s) => s.run ?? '').join('\n');
    expect(script).toContain('gh pr list --repo "$GITHUB_REPOSITORY" --state open --json number --limit 1000 > open-prs.json');
    expect(script).toContain('sweep --open-prs open-prs.json');
  });

  it('the PR template documents every #preview-config data source', () => {
    const template = readFileSync(join(root, '.github/pull_request_template.md'), 'utf8');
    expect(template).toContain('#preview-config');
    for (const source of ['seed', 'snapshot', 'staging']) expect(template).toContain(`\`${source}\``);
  });
});
