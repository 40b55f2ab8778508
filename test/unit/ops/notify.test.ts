import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode, UserError } from '../../../runtime/errors.js';
import { createLogger } from '../../../runtime/ops/log.js';
import { reasonOf, redact, sendNotification, slackMessage, type Notification } from '../../../runtime/ops/notify.js';

const SECRET_PATH = '/services/T000/B000/xoxb-very-secret-token';
const base: Notification = { kind: 'staging-refresh', outcome: 'success', trigger: 'manual', target: 'syrf_staging', snapshotId: '2026-01-09', sourceAgeSeconds: 5400, collections: 3, documents: 1200, durationSeconds: 61.6 };

function recording() {
  const lines: string[] = [];
  return { logger: createLogger({ format: 'text', verbose: true, write: (l) => lines.push(l) }), lines };
}

describe('message content', () => {
  it('carries snapshot, age, counts, duration and outcome as Slack text and blocks', () => {
    const message = slackMessage(base);
    expect(message.text).toBe(':white_check_mark: Staging refresh (manual): success - syrf_staging\nSnapshot: 2026-01-09 | Source age: 1.5 h | Collections: 3 | Documents: 1200 | Duration: 62 s | Outcome: success');
    expect(JSON.stringify(message.blocks)).toContain('*Documents*\\n1200');
  });

  it('takes the reason from the error class and exit code, never from the message (which can quote a document)', () => {
    const leaky = new UserError('E11000 duplicate key error dup key: { Email: "jane.doe@example.org" }', { exitCode: ExitCode.corrupt });
    expect(reasonOf(leaky)).toBe('corrupt');
    expect(reasonOf(new Error('jane.doe@example.org'))).toBe('error');
    const text = JSON.stringify(slackMessage({ ...base, outcome: 'failure', reason: reasonOf(leaky) }));
    expect(text).not.toContain('jane');
    expect(text).toContain('the snapshot data is corrupt');
  });
});

describe('redact', () => {
  it('replaces the URL in every spelling fetch may use', () => {
    const url = 'https://Hooks.Example.com/services/T0/B0/abc%2Fdef';
    expect(redact(`failed: ${url} and https://hooks.example.com/services/T0/B0/abc%2Fdef and /services/T0/B0/abc/def`, url)).not.toMatch(/abc/);
  });
});

describe('sendNotification', () => {
  let server: Server;
  let url: string;
  const bodies: string[] = [];
  let status = 200;
  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        bodies.push(body);
        res.statusCode = status;
        res.end(`echo of ${req.url}`);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${SECRET_PATH}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('POSTs exactly one JSON message', async () => {
    bodies.length = 0;
    const { logger } = recording();
    expect(await sendNotification(base, { logger, env: { SYRF_NOTIFY_WEBHOOK_URL: url } })).toBe('sent');
    expect(bodies).toHaveLength(1);
    expect(JSON.parse(bodies[0]!).text).toContain('Staging refresh');
  });

  it('does nothing without the variable', async () => {
    bodies.length = 0;
    expect(await sendNotification(base, { logger: recording().logger, env: {} })).toBe('not-configured');
    expect(bodies).toHaveLength(0);
  });

  it('warns without the URL when the receiver refuses (and does not read a body that may echo it)', async () => {
    status = 403;
    const { logger, lines } = recording();
    expect(await sendNotification(base, { logger, env: { SYRF_NOTIFY_WEBHOOK_URL: url } })).toBe('failed');
    status = 200;
    expect(lines.join('\n')).toMatch(/could not send the staging-refresh notification to \$SYRF_NOTIFY_WEBHOOK_URL: the webhook answered 403/);
    expect(lines.join('\n')).not.toContain('secret-token');
  });

  it('refuses a URL that is not http(s) or not a URL, without printing it', async () => {
    for (const bad of ['file:///etc/passwd-secret-token', 'not a url secret-token', 'ftp://x/secret-token']) {
      const { logger, lines } = recording();
      expect(await sendNotification(base, { logger, env: { SYRF_NOTIFY_WEBHOOK_URL: bad } })).toBe('failed');
      expect(lines.join('\n')).not.toContain('secret-token');
    }
  });

  it('does not follow a redirect (a redirect could hand the message to someone else)', async () => {
    const redirecting = createServer((_req, res) => {
      res.statusCode = 302;
      res.setHeader('Location', url);
      res.end();
    });
    await new Promise<void>((resolve) => redirecting.listen(0, '127.0.0.1', resolve));
    bodies.length = 0;
    const { logger } = recording();
    const result = await sendNotification(base, { logger, env: { SYRF_NOTIFY_WEBHOOK_URL: `http://127.0.0.1:${(redirecting.address() as AddressInfo).port}/x` } });
    await new Promise<void>((resolve) => redirecting.close(() => resolve()));
    expect(result).toBe('failed');
    expect(bodies).toHaveLength(0);
  });
});
