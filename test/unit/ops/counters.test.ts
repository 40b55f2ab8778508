import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../runtime/ops/log.js';
import { carriedCounts, parseSampleLine, publishMetrics, recordJobRun, renderExposition, type JobRun } from '../../../runtime/ops/metrics.js';

/**
 * The run and document counters must keep counting across runs of a batch
 * job, or `increase(...[30d])` (the SLO) sees nothing but 0s and 1s.
 */

const logger = createLogger({ format: 'text', quiet: true, write: () => {} });
const run = (outcome: 'success' | 'failure', documents = 10): JobRun => ({ job: 'restore', outcome, durationSeconds: 1, bytes: 100, documents, extraLabels: { target: 'syrf_staging' } });

function value(text: string, name: string, labels: Record<string, string>): string | undefined {
  const family = parsePrometheusTextFormat(text).find((f) => f.name === name);
  return family?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))?.value;
}

describe('counters continue across runs', () => {
  it('a textfile keeps adding runs and documents for the same series', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'counters-'));
    try {
      for (const outcome of ['success', 'success', 'failure', 'success'] as const) {
        await publishMetrics(recordJobRun(run(outcome, 7)), { textfile: dir, logger });
      }
      const text = readFileSync(join(dir, 'syrf_db_restore.prom'), 'utf8');
      expect(value(text, 'syrf_db_job_runs_total', { outcome: 'success' })).toBe('3');
      expect(value(text, 'syrf_db_job_runs_total', { outcome: 'failure' })).toBe('1');
      expect(value(text, 'syrf_db_job_documents_total', { target: 'syrf_staging' })).toBe('28');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('does not inherit counts from another target written to the same file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'counters-'));
    try {
      await publishMetrics(recordJobRun(run('success')), { textfile: dir, logger });
      await publishMetrics(recordJobRun({ ...run('success'), extraLabels: { target: 'syrf_pr_1' } }), { textfile: dir, logger });
      const text = readFileSync(join(dir, 'syrf_db_restore.prom'), 'utf8');
      expect(value(text, 'syrf_db_job_runs_total', { target: 'syrf_pr_1', outcome: 'success' })).toBe('1');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('through a Pushgateway', () => {
    let server: Server;
    let base: string;
    let served = '';
    let getStatus = 200;
    const pushed: string[] = [];
    beforeAll(async () => {
      server = createServer((req, res) => {
        let body = '';
        req.on('data', (c: Buffer) => (body += c.toString()));
        req.on('end', () => {
          if (req.method === 'GET') {
            res.statusCode = getStatus;
            res.end(served);
            return;
          }
          pushed.push(body);
          res.end('');
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('continues from what the gateway serves for the same job and grouping key', async () => {
      served = [
        '# TYPE syrf_db_job_runs_total counter',
        'syrf_db_job_runs_total{instance="",job="restore",outcome="success",target="syrf_staging"} 41',
        'syrf_db_job_runs_total{instance="",job="restore",outcome="failure",target="syrf_staging"} 2',
        'syrf_db_job_runs_total{instance="",job="restore",outcome="success",target="syrf_pr_9"} 1000',
        'syrf_db_job_documents_total{instance="",job="restore",target="syrf_staging"} 500',
      ].join('\n');
      pushed.length = 0;
      await publishMetrics(recordJobRun(run('failure', 5)), { pushgateway: base, logger });
      expect(pushed).toHaveLength(1);
      expect(value(pushed[0]!, 'syrf_db_job_runs_total', { outcome: 'success' })).toBe('41');
      expect(value(pushed[0]!, 'syrf_db_job_runs_total', { outcome: 'failure' })).toBe('3');
      expect(value(pushed[0]!, 'syrf_db_job_documents_total', {})).toBe('505');
    });

    it('still pushes (from zero) when the gateway cannot be read', async () => {
      getStatus = 500;
      pushed.length = 0;
      await publishMetrics(recordJobRun(run('success')), { pushgateway: base, logger });
      getStatus = 200;
      expect(pushed).toHaveLength(1);
      expect(value(pushed[0]!, 'syrf_db_job_runs_total', { outcome: 'success' })).toBe('1');
    });
  });
});

describe('exposition parsing for carried counts', () => {
  it('reads escaped label values and ignores comments, other series and garbage', () => {
    expect(parseSampleLine('x{a="q\\"b\\\\c\\nd",b="2"} 3 1700000000')).toEqual({ name: 'x', labels: { a: 'q"b\\c\nd', b: '2' }, value: 3 });
    expect(parseSampleLine('# HELP x y')).toBeNull();
    expect(parseSampleLine('x{a="unterminated} 3')).toBeNull();
    expect(carriedCounts('syrf_db_job_runs_total{job="restore",outcome="success"} NaN\nsyrf_db_job_runs_total{job="restore",outcome="failure"} -4', { job: 'restore' })).toEqual({
      runs: { success: 0, failure: 0 },
      documents: 0,
    });
  });

  it('renders extra gauges after the standard families with the job labels first', async () => {
    const text = await renderExposition(
      recordJobRun({ job: 'prune', outcome: 'success', durationSeconds: 1, bytes: 0, documents: 0, gauges: [{ name: 'syrf_db_storage_bytes', help: 'h', labels: { prefix: 'prod/' }, value: 42 }] }),
    );
    expect(text).toMatch(/^syrf_db_storage_bytes\{job="prune",prefix="prod\/"\} 42$/m);
  });
});
