/**
 * The alerting configuration checked by the real tools: `promtool check
 * rules` and `promtool test rules` (synthetic series for every alert in
 * ops/tests/), `amtool check-config` and `amtool config routes test`.
 * test/servers/install-ops-tools.sh builds both from the Go module proxy.
 * Outside CI a machine without them skips; in CI their absence fails.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import yaml from 'js-yaml';
import { afterAll, describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../../..');
const binDir = process.env.SYRF_TOOLS_BIN ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'syrf-db-tools', 'bin');
const promtool = join(binDir, 'promtool');
const amtool = join(binDir, 'amtool');
const havePromtool = existsSync(promtool);
const haveAmtool = existsSync(amtool);
const inCi = Boolean(process.env.CI);

interface Rule {
  alert?: string;
  record?: string;
  labels?: { severity?: string };
}
const crd = yaml.load(readFileSync(join(root, 'ops/prometheus-rules.yaml'), 'utf8')) as { spec: { groups: { name: string; rules: Rule[] }[] } };
const alerts = crd.spec.groups.flatMap((g) => g.rules).filter((r): r is Rule & { alert: string } => r.alert !== undefined);
const testFiles = readdirSync(join(root, 'ops/tests')).filter((f) => f.endsWith('.yaml'));

/** The rule groups as a plain Prometheus rule file, next to copies of the unit test files. */
const work = mkdtempSync(join(tmpdir(), 'promtool-'));
writeFileSync(join(work, 'rules.yaml'), yaml.dump({ groups: crd.spec.groups }));
for (const file of testFiles) copyFileSync(join(root, 'ops/tests', file), join(work, file));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function run(tool: string, args: string[]): { status: number | null; output: string } {
  const result = spawnSync(tool, args, { cwd: work, encoding: 'utf8', timeout: 120_000 });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('every alert has a promtool unit test that makes it fire', () => {
  it('names each alert in an alert_rule_test with at least one expected firing', () => {
    const firing = new Set<string>();
    for (const file of testFiles) {
      const suite = yaml.load(readFileSync(join(root, 'ops/tests', file), 'utf8')) as { tests: { alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[] }[] };
      for (const test of suite.tests) for (const case_ of test.alert_rule_test ?? []) if (case_.exp_alerts.length > 0) firing.add(case_.alertname);
    }
    expect([...firing].sort()).toEqual(alerts.map((a) => a.alert).sort());
  });
});

describe.skipIf(!havePromtool && !inCi)('promtool', () => {
  it('is installed (CI builds it with test/servers/install-ops-tools.sh)', () => {
    expect(havePromtool, `promtool missing from ${binDir}; run bash test/servers/install-ops-tools.sh`).toBe(true);
    expect(execFileSync(promtool, ['--version'], { encoding: 'utf8' })).toMatch(/promtool, version/);
  });

  it('promtool check rules accepts the rule groups', () => {
    const result = run(promtool, ['check', 'rules', 'rules.yaml']);
    expect(result.status, result.output).toBe(0);
    expect(result.output).toMatch(/SUCCESS: \d+ rules found/);
  });

  // promtool evaluates every rule (30-day windows included) at every step of the synthetic series: seconds, not milliseconds.
  it.each(testFiles)('promtool test rules %s passes', (file) => {
    const result = run(promtool, ['test', 'rules', file]);
    expect(result.status, result.output).toBe(0);
    expect(result.output).toMatch(/SUCCESS/);
  }, 120_000);

  it('the checks can fail: a broken expression and a wrong expectation are reported', () => {
    writeFileSync(join(work, 'broken.yaml'), yaml.dump({ groups: [{ name: 'x', rules: [{ alert: 'X', expr: 'sum(syrf_db_job_runs_total' }] }] }));
    expect(run(promtool, ['check', 'rules', 'broken.yaml']).status).not.toBe(0);
    const right = readFileSync(join(work, 'drill-staging-storage.yaml'), 'utf8');
    const wrong = right.replace('summary: The daily restore drill failed', 'summary: something else');
    expect(wrong).not.toBe(right);
    writeFileSync(join(work, 'wrong.yaml'), wrong);
    const result = run(promtool, ['test', 'rules', 'wrong.yaml']);
    expect(result.status).not.toBe(0);
    expect(result.output).toMatch(/FAILED/);
  });

});

describe.skipIf(!haveAmtool && !inCi)('amtool', () => {
  it('is installed (CI builds it with test/servers/install-ops-tools.sh)', () => {
    expect(haveAmtool, `amtool missing from ${binDir}; run bash test/servers/install-ops-tools.sh`).toBe(true);
    expect(execFileSync(amtool, ['--version'], { encoding: 'utf8' })).toMatch(/amtool, version/);
  });

  it('amtool check-config accepts ops/alertmanager.yaml', () => {
    const result = run(amtool, ['check-config', join(root, 'ops/alertmanager.yaml')]);
    expect(result.status, result.output).toBe(0);
    expect(result.output).toMatch(/SUCCESS/);
  });

  it('routes every critical alert to PagerDuty and every warning to the chat webhook', () => {
    for (const alert of alerts) {
      const severity = alert.labels?.severity ?? '';
      const result = run(amtool, ['config', 'routes', 'test', `--config.file=${join(root, 'ops/alertmanager.yaml')}`, `alertname=${alert.alert}`, `severity=${severity}`]);
      expect(result.status, result.output).toBe(0);
      expect(result.output.trim(), alert.alert).toBe(severity === 'critical' ? 'pagerduty-critical' : 'chat-warnings');
    }
  });
});
