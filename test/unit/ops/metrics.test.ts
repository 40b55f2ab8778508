import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import parsePrometheusTextFormat, { type ParsedFamily } from 'parse-prometheus-text-format';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../runtime/ops/log.js';
import { publishMetrics, pushgatewayUrl, recordJobRun, renderExposition, type JobRun } from '../../../runtime/ops/metrics.js';

const snapshotRun: JobRun = {
  job: 'snapshot',
  outcome: 'success',
  durationSeconds: 512.25,
  bytes: 1_234_567_890,
  documents: 98_765,
  finishedAt: new Date('2026-01-09T03:08:32.500Z'),
};

function family(parsed: ParsedFamily[], name: string): ParsedFamily {
  const found = parsed.find((f) => f.name === name);
  if (!found) throw new Error(`no ${name} in ${parsed.map((f) => f.name).join(', ')}`);
  return found;
}

function recordingLogger() {
  const lines: string[] = [];
  return { logger: createLogger({ format: 'text', verbose: true, write: (line) => lines.push(line) }), lines };
}

describe('renderExposition (checked with a Prometheus text-format parser)', () => {
  it('exposes every snapshot metric with its type, help and value', async () => {
    const parsed = parsePrometheusTextFormat(await renderExposition(recordJobRun(snapshotRun)));
    expect(parsed.map((f) => [f.name, f.type])).toEqual([
      ['syrf_db_job_runs_total', 'COUNTER'],
      ['syrf_db_job_duration_seconds', 'GAUGE'],
      ['syrf_db_job_bytes', 'GAUGE'],
      ['syrf_db_job_documents_total', 'COUNTER'],
      ['syrf_db_snapshot_last_success_timestamp_seconds', 'GAUGE'],
      ['syrf_db_snapshot_size_bytes', 'GAUGE'],
    ]);
    for (const f of parsed) expect(f.help).not.toBe('');
    expect(family(parsed, 'syrf_db_job_runs_total').metrics).toEqual([
      { labels: { job: 'snapshot', outcome: 'success' }, value: '1' },
      { labels: { job: 'snapshot', outcome: 'failure' }, value: '0' },
    ]);
    expect(family(parsed, 'syrf_db_job_duration_seconds').metrics).toEqual([{ labels: { job: 'snapshot' }, value: '512.25' }]);
    expect(family(parsed, 'syrf_db_job_bytes').metrics[0]!.value).toBe('1234567890');
    expect(family(parsed, 'syrf_db_job_documents_total').metrics[0]!.value).toBe('98765');
    expect(Number(family(parsed, 'syrf_db_snapshot_last_success_timestamp_seconds').metrics[0]!.value)).toBe(Date.parse('2026-01-09T03:08:32.500Z') / 1000);
    expect(family(parsed, 'syrf_db_snapshot_size_bytes').metrics[0]!.value).toBe('1234567890');
  });

  it('leaves the last-success and size gauges out of failed runs and of restores', async () => {
    const failed = parsePrometheusTextFormat(await renderExposition(recordJobRun({ ...snapshotRun, outcome: 'failure' }))).map((f) => f.name);
    expect(failed).not.toContain('syrf_db_snapshot_last_success_timestamp_seconds');
    expect(failed).not.toContain('syrf_db_snapshot_size_bytes');
    const restore = parsePrometheusTextFormat(await renderExposition(recordJobRun({ ...snapshotRun, job: 'restore' }))).map((f) => f.name);
    expect(restore).not.toContain('syrf_db_snapshot_size_bytes');
    const runs = family(parsePrometheusTextFormat(await renderExposition(recordJobRun({ ...snapshotRun, outcome: 'failure' }))), 'syrf_db_job_runs_total');
    expect(runs.metrics.find((m) => m.labels?.outcome === 'failure')?.value).toBe('1');
  });

  it('escapes backslashes, quotes and newlines in label values so they parse back unchanged', async () => {
    const awkward = 'C:\\dir\\"quoted"\nsecond line';
    const text = await renderExposition(recordJobRun({ ...snapshotRun, job: 'restore', extraLabels: { target: awkward } }));
    expect(text).toContain('target="C:\\\\dir\\\\\\"quoted\\"\\nsecond line"');
    for (const f of parsePrometheusTextFormat(text)) {
      for (const m of f.metrics) expect(m.labels?.target).toBe(awkward);
    }
  });

  it('ends with a newline and writes non-finite values the way Prometheus spells them', async () => {
    const text = await renderExposition(recordJobRun({ ...snapshotRun, durationSeconds: Number.NaN, bytes: Infinity }));
    expect(text.endsWith('\n')).toBe(true);
    expect(text).toMatch(/^syrf_db_job_duration_seconds\{job="snapshot"\} NaN$/m);
    expect(text).toMatch(/^syrf_db_job_bytes\{job="snapshot"\} \+Inf$/m);
  });

  it('rejects label names Prometheus would reject', () => {
    expect(() => recordJobRun({ ...snapshotRun, extraLabels: { 'bad-name': 'x' } })).toThrow(/not a valid Prometheus label name/);
    expect(() => recordJobRun({ ...snapshotRun, extraLabels: { job: 'x' } })).toThrow(/may not redefine job/);
  });
});

describe('pushgatewayUrl', () => {
  it('groups by job and the extra labels, base64-encoding values a path cannot hold', () => {
    const metrics = recordJobRun({ ...snapshotRun, job: 'restore', extraLabels: { target: 'syrf_pr_12', note: 'a/b', empty: '' } });
    expect(pushgatewayUrl('http://gw:9091/', metrics)).toBe(
      `http://gw:9091/metrics/job/restore/target/syrf_pr_12/note@base64/${Buffer.from('a/b').toString('base64url')}/empty@base64/=`,
    );
  });
});

describe('publishMetrics', () => {
  interface Received {
    method: string;
    url: string;
    contentType: string | undefined;
    body: string;
  }
  let server: Server;
  let base: string;
  const received: Received[] = [];
  let status = 200;

  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        received.push({ method: req.method ?? '', url: req.url ?? '', contentType: req.headers['content-type'], body });
        res.statusCode = status;
        res.end(status === 200 ? '' : 'pushed metrics are invalid');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  afterEach(() => {
    received.length = 0;
    status = 200;
  });

  it('POSTs the exposition to /metrics/job/<job>/<grouping>, leaving the grouping labels to the path', async () => {
    const { logger } = recordingLogger();
    const metrics = recordJobRun({ job: 'restore', outcome: 'success', durationSeconds: 42, bytes: 1000, documents: 10, extraLabels: { target: 'syrf_pr_7' } });
    const result = await publishMetrics(metrics, { pushgateway: base, textfile: '/nonexistent/should-not-be-used.prom', logger });
    expect(result).toEqual({ kind: 'pushgateway', url: `${base}/metrics/job/restore/target/syrf_pr_7` });
    // One read of the counters the gateway holds, then exactly one push.
    expect(received.map((r) => r.method)).toEqual(['GET', 'POST']);
    const request = received[1]!;
    expect(request.method).toBe('POST');
    expect(request.url).toBe('/metrics/job/restore/target/syrf_pr_7');
    expect(request.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    const parsed = parsePrometheusTextFormat(request.body);
    expect(family(parsed, 'syrf_db_job_runs_total').metrics).toEqual([
      { labels: { outcome: 'success' }, value: '1' },
      { labels: { outcome: 'failure' }, value: '0' },
    ]);
    expect(family(parsed, 'syrf_db_job_duration_seconds').metrics).toEqual([{ value: '42' }]);
    expect(request.body).not.toMatch(/job=|target=/);
  });

  it('warns instead of failing the job when the Pushgateway refuses the push', async () => {
    status = 400;
    const { logger, lines } = recordingLogger();
    const result = await publishMetrics(recordJobRun(snapshotRun), { pushgateway: base, logger });
    expect(result).toEqual({ kind: 'none' });
    expect(lines.join('\n')).toMatch(/warning: could not publish metrics: Pushgateway .* answered 400 .*pushed metrics are invalid/);
  });

  it('writes a node_exporter textfile when no Pushgateway is given, leaving no temporary file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'textfile-'));
    try {
      const { logger } = recordingLogger();
      const result = await publishMetrics(recordJobRun(snapshotRun), { textfile: dir, logger });
      const path = join(dir, 'syrf_db_snapshot.prom');
      expect(result).toEqual({ kind: 'textfile', path });
      expect(readdirSync(dir)).toEqual(['syrf_db_snapshot.prom']);
      const parsed = parsePrometheusTextFormat(readFileSync(path, 'utf8'));
      expect(family(parsed, 'syrf_db_snapshot_size_bytes').metrics).toEqual([{ labels: { job: 'snapshot' }, value: '1234567890' }]);

      const named = join(dir, 'nested', 'custom.prom');
      await publishMetrics(recordJobRun({ ...snapshotRun, job: 'clone' }), { textfile: named, logger });
      expect(family(parsePrometheusTextFormat(readFileSync(named, 'utf8')), 'syrf_db_job_runs_total').metrics[0]!.labels).toEqual({
        job: 'clone',
        outcome: 'success',
      });
      expect(received).toHaveLength(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
