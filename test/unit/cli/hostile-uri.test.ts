/**
 * Hostile connection strings through the real CLI: each run must end in one
 * clear error, and no secret may appear in stdout, stderr or the audit line,
 * in any encoding.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommanderError } from 'commander';
import { runCli, type CliResult } from '../../support/cli.js';
import { buildProgram } from '../../../runtime/cli/program.js';
import { registerProcessSecrets } from '../../../runtime/cli/secrets.js';
import { reportFatal } from '../../../runtime/cli/context.js';
import { clearRegisteredSecrets } from '../../../runtime/ops/redact.js';

/**
 * The CLI's main, in this process: same program, same secret registration,
 * same error report; stdout and stderr captured. The child-process runs
 * below prove the two agree.
 */
async function runInProcess(args: string[], env: Record<string, string | undefined>): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const saved = { out: process.stdout.write, err: process.stderr.write, env: { ...process.env }, exitCode: process.exitCode };
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  process.stdout.write = ((chunk: string | Uint8Array) => ((stdout += chunk.toString()), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => ((stderr += chunk.toString()), true)) as typeof process.stderr.write;
  let code = 0;
  clearRegisteredSecrets();
  try {
    const argv = ['node', 'syrf-db', ...args];
    registerProcessSecrets(process.env, argv);
    await buildProgram({
      onCommanderExit: (error) => {
        throw error;
      },
    }).parseAsync(argv);
  } catch (error) {
    code = error instanceof CommanderError ? 2 : reportFatal(error);
  } finally {
    process.stdout.write = saved.out;
    process.stderr.write = saved.err;
    process.env = saved.env;
    process.exitCode = saved.exitCode;
    clearRegisteredSecrets();
  }
  return { code, signal: null, stdout, stderr };
}

interface HostileCase {
  name: string;
  uri: string;
  secrets: string[];
  /** Passed in MONGO_URI (as jobs do) instead of --uri. */
  viaEnv?: boolean;
  pushgateway?: string;
}

const UNREACHABLE = '127.0.0.1:1';

const cases: HostileCase[] = [
  { name: 'password with an unescaped @', uri: `mongodb://admin:p@ssw0rd@${UNREACHABLE}/`, secrets: ['p@ssw0rd', 'ssw0rd'] },
  { name: 'password with an unescaped /', uri: `mongodb://admin:pa/ssw0rd@${UNREACHABLE}/`, secrets: ['pa/ssw0rd', 'ssw0rd'] },
  { name: 'password with an unescaped : (env)', uri: `mongodb://admin:co:lonS3cret@${UNREACHABLE}/`, secrets: ['co:lonS3cret', 'lonS3cret'], viaEnv: true },
  { name: 'escaped @ in the password', uri: `mongodb://admin:S3cret%40x@${UNREACHABLE}/`, secrets: ['S3cret%40x', 'S3cret@x'] },
  {
    name: 'tlsCertificateKeyFilePassword',
    uri: `mongodb://admin:hunter22@${UNREACHABLE}/?tls=true&tlsCertificateKeyFilePassword=k3yPa55word`,
    secrets: ['hunter22', 'k3yPa55word'],
  },
  {
    name: 'authMechanismProperties',
    uri: `mongodb://${UNREACHABLE}/?authMechanism=MONGODB-AWS&authMechanismProperties=AWS_SESSION_TOKEN:s3ssionT0ken`,
    secrets: ['s3ssionT0ken'],
    viaEnv: true,
  },
  { name: 'leading space', uri: ` mongodb://admin:lead1ngSecret@${UNREACHABLE}/`, secrets: ['lead1ngSecret'] },
  { name: 'uppercase scheme', uri: `MONGODB://admin:upperS3cret@${UNREACHABLE}/`, secrets: ['upperS3cret'] },
  { name: 'port 99999', uri: 'mongodb://admin:p0rtS3cret@127.0.0.1:99999/', secrets: ['p0rtS3cret'] },
  { name: 'unclosed IPv6 bracket', uri: 'mongodb://admin:ipv6S3cret@[::1', secrets: ['ipv6S3cret'] },
  { name: 'postgres scheme', uri: 'postgres://admin:pgS3cret@127.0.0.1/db', secrets: ['pgS3cret'] },
  { name: 'bad percent escape', uri: `mongodb://admin:pct%zzS3cret@${UNREACHABLE}/`, secrets: ['pct%zzS3cret', 'zzS3cret'] },
  { name: 'srv with two hosts', uri: 'mongodb+srv://admin:srvS3cret@a.example,b.example/', secrets: ['srvS3cret'] },
  { name: 'space in the password (env)', uri: `mongodb://admin:sp ace5ecret@${UNREACHABLE}/`, secrets: ['sp ace5ecret', 'ace5ecret'], viaEnv: true },
  {
    name: 'Pushgateway URL with credentials',
    uri: `mongodb://admin:m0ngoPass@${UNREACHABLE}/`,
    secrets: ['m0ngoPass', 'pushS3cret'],
    pushgateway: 'http://metrics:pushS3cret@127.0.0.1:1/',
  },
];

describe('hostile URIs through the real CLI', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'syrf-hostile-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const run = async (c: HostileCase, i: number, how: 'child' | 'in-process') => {
    const audit = join(dir, `audit-${how}-${i}.jsonl`);
    const args = ['clone', '--target', 'syrf_pr_1', '--audit-log', audit, ...(c.viaEnv ? [] : ['--uri', c.uri]), ...(c.pushgateway ? ['--pushgateway', c.pushgateway] : [])];
    const env = { SYRF_MONGO_TIMEOUT_MS: '300', MONGO_URI: c.viaEnv ? c.uri : undefined, SYRF_LOG_FORMAT: 'text' };
    const result = how === 'child' ? await runCli(args, { env }) : await runInProcess(args, env);
    const auditLine = await readFile(audit, 'utf8').catch(() => '');
    return { c, result, auditLine };
  };

  it('every case of the table, in process: one clear error and no secret anywhere', { timeout: 120_000 }, async () => {
    const results = [];
    for (const [i, c] of cases.entries()) results.push(await run(c, i, 'in-process'));
    check(results);
  });

  it('the most hostile cases as real child processes', { timeout: 300_000 }, async () => {
    const chosen = cases.filter((c) => /unescaped @|env|Pushgateway|tlsCertificateKeyFilePassword/.test(c.name));
    check(await runLimited(chosen, 3, (c, i) => run(c, i, 'child')));
  });

  function check(results: Array<{ c: HostileCase; result: CliResult; auditLine: string }>): void {
    for (const { c, result, auditLine } of results) {
      const everything = `${result.stdout}\n${result.stderr}\n${auditLine}`;
      expect(result.code, `${c.name}: ${result.stderr}`).not.toBe(0);
      expect(result.stderr, c.name).toMatch(/^error: /m);
      expect(result.stderr, c.name).not.toMatch(/unexpected failure|\n\s+at /);
      for (const secret of c.secrets) {
        for (const form of new Set([secret, encodeURIComponent(secret)])) {
          expect(everything.includes(form), `${c.name}: "${form}" leaked:\n${everything}`).toBe(false);
        }
      }
    }
    // The runs that got as far as the job wrote an audit line; those that failed on the URI before it need none.
    expect(results.filter((r) => r.auditLine.includes('"audit":true')).length).toBeGreaterThan(0);
  }
});

async function runLimited<T, R>(items: readonly T[], limit: number, run: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await run(items[index]!, index);
      }
    }),
  );
  return results;
}
