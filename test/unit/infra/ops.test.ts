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
  'syrf_db_job_last_run_failed',
  'syrf_db_drill_last_success_timestamp_seconds',
  'syrf_db_drill_latest_demoted',
  'syrf_db_staging_refresh_refused',
  'syrf_db_staging_last_refresh_timestamp_seconds',
  'syrf_db_staging_source_age_seconds',
  'syrf_db_storage_bytes',
  'syrf_db_storage_objects',
  'syrf_db_storage_budget_bytes',
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
            z.union([
              z
                .object({
                  alert: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/),
                  expr: z.string().min(1),
                  for: duration.optional(),
                  labels: z.object({ severity: z.enum(['critical', 'warning', 'info']) }),
                  annotations: z.object({ summary: z.string(), description: z.string(), runbook_url: z.string() }),
                })
                .strict(),
              // Recording rules (the SLO ratios) follow Prometheus' level:metric:operations naming.
              z.object({ record: z.string().regex(/^syrf_db:[a-z_]+:[a-z0-9_]+$/), expr: z.string().min(1) }).strict(),
            ]),
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
type AnyRule = (typeof rules)['spec']['groups'][number]['rules'][number];
type AlertRule = Extract<AnyRule, { alert: string }>;
type RecordRule = Extract<AnyRule, { record: string }>;
const alerts = rules.spec.groups.flatMap((g) => g.rules).filter((r): r is AlertRule => 'alert' in r);
const records = rules.spec.groups.flatMap((g) => g.rules).filter((r): r is RecordRule => 'record' in r);
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
      // Burn-rate alerts read the recording rules, which must be defined here.
      const recorded = [...alert.expr.matchAll(/\bsyrf_db:[a-z_]+:[a-z0-9_]+\b/g)].map((m) => m[0]);
      for (const name of recorded) expect(records.map((r) => r.record), alert.alert).toContain(name);
      expect(metricsIn(alert.expr).length + recorded.length, alert.alert).toBeGreaterThan(0);
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

describe('SLO recording rules', () => {
  it('record the 30-day success ratios and the error budget left for snapshots and restores', () => {
    const names = records.map((r) => r.record);
    for (const name of ['syrf_db:snapshot_success_ratio:30d', 'syrf_db:snapshot_error_budget_remaining:30d', 'syrf_db:restore_success_ratio:30d', 'syrf_db:restore_error_budget_remaining:30d']) {
      expect(names).toContain(name);
    }
    for (const record of records) {
      for (const metric of metricsIn(record.expr)) expect(KNOWN_METRICS).toContain(metric);
      expect(balanced(record.expr), record.record).toBe(true);
    }
  });

  it('the dashboard shows the ratio and the budget left', () => {
    const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr)).join('\n');
    expect(exprs).toContain('syrf_db:snapshot_success_ratio:30d');
    expect(exprs).toContain('syrf_db:snapshot_error_budget_remaining:30d');
    expect(exprs).toContain('syrf_db:restore_success_ratio:30d');
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
