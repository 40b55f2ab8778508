import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import yaml from 'js-yaml';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../../..');
const workflowsDir = join(root, '.github/workflows');
const actionlint = join(homedir(), '.cache/syrf-db-tools/bin/actionlint');

type Workflow = { on: Record<string, any>; jobs: Record<string, { if?: string; steps: { run?: string; uses?: string; with?: Record<string, string> }[] }> };

function workflow(name: string): Workflow {
  return yaml.load(readFileSync(join(workflowsDir, name), 'utf8')) as Workflow;
}

describe('GitHub workflows', () => {
  it.skipIf(!existsSync(actionlint))('pass actionlint (built by .ci/run from test/servers/tools/actionlint)', async () => {
    const files = readdirSync(workflowsDir).filter((f) => f.endsWith('.yml')).map((f) => join(workflowsDir, f));
    expect(files.length).toBeGreaterThanOrEqual(3);
    const result = await run(actionlint, ['-color=false', ...files], { cwd: root }).catch((error: { stdout: string; code: number }) => error);
    expect('code' in result ? result.stdout : '').toBe('');
  });

  it('staging refresh refuses to run without the exact confirmation phrase', () => {
    const refresh = workflow('staging-db-refresh.yml');
    expect(Object.keys(refresh.on['workflow_dispatch'].inputs).sort()).toEqual(['confirm', 'snapshot_id']);
    expect(refresh.jobs['refresh']?.if).toBe("inputs.confirm == 'refresh-staging'");
    const refuse = refresh.jobs['refuse'];
    expect(refuse?.if).toBe("inputs.confirm != 'refresh-staging'");
    expect(refuse?.steps.at(-1)?.run).toMatch(/exit 1/);
  });

  it('PR preview parses the description with syrf-db, deploys pr-<N> with the policy pack, and destroys it on close', () => {
    const preview = workflow('pr-preview.yml');
    const deploy = preview.jobs['deploy']!.steps.map((s) => s.run ?? '').join('\n');
    expect(deploy).toContain('syrf-db preview-config --pr-body -');
    expect(deploy).toContain('--policy-pack infra/policy');
    // The PR body is untrusted: it must reach the shell only through the environment.
    expect(deploy).not.toContain('github.event.pull_request.body');
    const destroy = preview.jobs['destroy']!;
    expect(destroy.if).toBe("github.event.action == 'closed'");
    const destroyScript = destroy.steps.map((s) => s.run ?? '').join('\n');
    expect(destroyScript).toContain('pulumi destroy --yes --stack "$STACK"');
    expect(destroyScript).toContain('pulumi stack rm --yes --stack "$STACK"');
  });

  it('the PR template documents every #preview-config data source', () => {
    const template = readFileSync(join(root, '.github/pull_request_template.md'), 'utf8');
    expect(template).toContain('#preview-config');
    for (const source of ['seed', 'snapshot', 'staging']) expect(template).toContain(`\`${source}\``);
  });
});
