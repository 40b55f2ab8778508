import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import yaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';

/**
 * kubernetes-models has no PrometheusRule model, so the rule file is checked
 * against the CRD's essential shape here, and every expression against the
 * metric names the runtime actually exports.
 */

const root = resolve(import.meta.dirname, '../../..');
const KNOWN_METRICS = [
  'syrf_db_snapshot_last_success_timestamp_seconds',
  'syrf_db_job_runs_total',
  'syrf_db_job_duration_seconds',
  'syrf_db_snapshot_size_bytes',
  'syrf_db_job_documents_total',
];

const duration = z.string().regex(/^(\d+(ms|s|m|h|d|w|y))+$/);
const prometheusRule = z.object({
  apiVersion: z.literal('monitoring.coreos.com/v1'),
  kind: z.literal('PrometheusRule'),
  metadata: z.object({ name: z.string(), namespace: z.string(), labels: z.record(z.string(), z.string()) }),
  spec: z.object({
    groups: z
      .array(
        z.object({
          name: z.string(),
          rules: z.array(
            z
              .object({
                alert: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/),
                expr: z.string().min(1),
                for: duration.optional(),
                labels: z.object({ severity: z.enum(['critical', 'warning', 'info']) }),
                annotations: z.object({ summary: z.string(), description: z.string(), runbook_url: z.string() }),
              })
              .strict(),
          ),
        }),
      )
      .min(1),
  }),
});

function metricsIn(expr: string): string[] {
  return [...expr.matchAll(/\bsyrf_db_[a-z_]+\b/g)].map((m) => m[0]);
}

function balanced(expr: string): boolean {
  let depth = 0;
  for (const char of expr) {
    if ('({['.includes(char)) depth += 1;
    if (')}]'.includes(char)) depth -= 1;
    if (depth < 0) return false;
  }
  return depth === 0;
}

const rules = prometheusRule.parse(yaml.load(readFileSync(join(root, 'ops/prometheus-rules.yaml'), 'utf8')));
const alerts = rules.spec.groups.flatMap((g) => g.rules);
const dashboard = JSON.parse(readFileSync(join(root, 'ops/grafana-dashboard.json'), 'utf8')) as {
  uid: string;
  panels: { title: string; targets: { expr: string }[] }[];
};
const runbook = readFileSync(join(root, 'docs/runbook.md'), 'utf8');

describe('PrometheusRule', () => {
  it('covers the four failure modes the issue names', () => {
    const exprs = Object.fromEntries(alerts.map((a) => [a.alert, a.expr]));
    expect(exprs['SyrfDbSnapshotMissing']).toMatch(/26 \* 3600/);
    expect(exprs['SyrfDbSnapshotJobFailed']).toMatch(/outcome="failure"/);
    expect(exprs['SyrfDbSnapshotSizeDropped']).toMatch(/0\.5 \* .*offset 1d/);
    expect(exprs['SyrfDbRestoreSlow']).toMatch(/syrf_db_job_duration_seconds\{job=~"restore\|clone"\}/);
  });

  it('uses only metrics the runtime exports, in well-formed expressions', () => {
    for (const alert of alerts) {
      expect(metricsIn(alert.expr).length, alert.alert).toBeGreaterThan(0);
      for (const metric of metricsIn(alert.expr)) expect(KNOWN_METRICS, `${alert.alert}: ${metric}`).toContain(metric);
      expect(balanced(alert.expr), alert.alert).toBe(true);
    }
  });

  it('links every alert to a runbook section that exists', () => {
    const anchors = [...runbook.matchAll(/^#+\s+(.+)$/gm)].map((m) => m[1]!.trim().toLowerCase().replace(/[^a-z0-9 -]/g, '').replace(/ /g, '-'));
    for (const alert of alerts) {
      expect(alert.annotations.runbook_url).toBe(`docs/runbook.md#${alert.alert.toLowerCase()}`);
      expect(anchors, alert.alert).toContain(alert.alert.toLowerCase());
    }
  });
});

describe('Grafana dashboard', () => {
  it('charts snapshot and restore metrics with known metric names only', () => {
    expect(dashboard.uid).toBe('syrf-db-snapshots');
    const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr));
    const used = new Set(exprs.flatMap(metricsIn));
    for (const metric of used) expect(KNOWN_METRICS).toContain(metric);
    expect([...used].sort()).toEqual([...KNOWN_METRICS].sort());
    for (const expr of exprs) expect(balanced(expr), expr).toBe(true);
  });
});
