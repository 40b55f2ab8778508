/** Inputs that used to end in a stack trace, a hang or a silent default now end in one clear sentence. */
import { describe, expect, it } from 'vitest';
import { parseMongoUri, hostsOf } from '../../../runtime/mongo/uri.js';
import { mongoTimeoutMs } from '../../../runtime/mongo/connect.js';
import { checkRestoreTarget, productionNamesFromEnv } from '../../../runtime/restore/guard.js';
import { parsePreviewConfig } from '../../../runtime/preview-config/parse.js';
import { summarizePreviewConfig } from '../../../runtime/preview-config/github-output.js';
import { reportFatal } from '../../../runtime/cli/context.js';
import { clearRegisteredSecrets, redactSecrets, registerUriSecrets } from '../../../runtime/ops/redact.js';
import { ExitCode, UserError } from '../../../runtime/errors.js';
import { runCli } from '../../support/cli.js';

function userErrorOf(run: () => unknown): UserError {
  try {
    run();
  } catch (error) {
    if (error instanceof UserError) return error;
    throw error;
  }
  throw new Error('expected a UserError');
}

describe('MongoDB URIs the driver answers with a stack', () => {
  it.each([
    [' mongodb://h:27017/', /starts or ends with whitespace/],
    ['MONGODB://h:27017/', /the scheme must be lowercase "mongodb:\/\/", not "MONGODB:\/\/"/],
    ['mongodb://h:99999/', /the port "99999" of host "h:99999" is not a number from 1 to 65535/],
    ['mongodb://[::1', /the IPv6 address "\[::1" has no closing "\]"/],
    ['postgres://u:secretpw@h/db', /"postgres:\/\/" is not a MongoDB scheme/],
    ['mongodb://u:pa/ss@h:27017/', /the password contains an unescaped "\/" \(percent-encode it as %2F\)/],
    ['mongodb://u:p@ss@h:27017/', /the password contains an unescaped "@" \(percent-encode it as %40\)/],
    ['mongodb://', /names no host/],
    ['', /it is empty/],
  ])('%j', (uri, says) => {
    const error = userErrorOf(() => parseMongoUri(uri));
    expect(error.message).toMatch(says);
    expect(error.exitCode).toBe(ExitCode.usage);
    expect(error.message).not.toMatch(/secretpw|ss@h|pa\/ss/);
  });

  it('accepts what the driver accepts', () => {
    for (const uri of ['mongodb://localhost', 'mongodb://u:p%40ss@h1:27017,h2:27018/db?replicaSet=rs', 'mongodb://[::1]:27017/', 'mongodb+srv://u:p@cluster0.x.net/db']) {
      expect(() => parseMongoUri(uri), uri).not.toThrow();
    }
    expect(hostsOf('mongodb://u:p%40ss@h1:27017,h2/db')).toEqual(['h1:27017', 'h2']);
  });
});

describe('SYRF_MONGO_TIMEOUT_MS', () => {
  it.each(['', ' ', 'abc', '0', '-5', '1.5', '15s', '99999999999'])('%j is refused (0 or NaN would wait forever)', (value) => {
    const error = userErrorOf(() => mongoTimeoutMs({ SYRF_MONGO_TIMEOUT_MS: value }));
    expect(error.message).toMatch(/SYRF_MONGO_TIMEOUT_MS is .* not a whole number of milliseconds/);
    expect(error.exitCode).toBe(ExitCode.usage);
  });
  it('defaults to 15 s and takes whole numbers', () => {
    expect(mongoTimeoutMs({})).toBe(15_000);
    expect(mongoTimeoutMs({ SYRF_MONGO_TIMEOUT_MS: ' 2500 ' })).toBe(2500);
  });
  it('an empty value ends the CLI at once instead of hanging', { timeout: 120_000 }, async () => {
    const result = await runCli(['clone', '--uri', 'mongodb://127.0.0.1:1/', '--target', 'syrf_pr_1'], { env: { SYRF_MONGO_TIMEOUT_MS: '' } });
    expect(result.code).toBe(ExitCode.usage);
    expect(result.stderr).toMatch(/error: SYRF_MONGO_TIMEOUT_MS is "", not a whole number/);
  });
});

describe('SYRF_PRODUCTION_DBS', () => {
  it.each(['prod_a;prod_b', 'prod_a prod_b', 'prod_a,\nprod_b', ' prod_a ; prod_b ,'])('%j protects both databases', (value) => {
    expect(productionNamesFromEnv({ SYRF_PRODUCTION_DBS: value })).toEqual(['syrftest', 'prod_a', 'prod_b']);
    for (const target of ['prod_a', 'prod_b']) {
      const error = userErrorOf(() =>
        checkRestoreTarget({ target, sourceDb: 'other', allowlist: [/^prod_.*$/], productionNames: productionNamesFromEnv({ SYRF_PRODUCTION_DBS: value }) }),
      );
      expect(error.exitCode).toBe(ExitCode.refused);
    }
  });
});

describe('#preview-config outside a code fence', () => {
  it('is reported in the output, not silently seed', () => {
    const body = ['Please use the snapshot:', '', '#preview-config', 'database:', '  source: snapshot'].join('\n');
    const config = parsePreviewConfig(body, { knownCollections: [] });
    expect(config.source).toBe('seed');
    expect(config.notices).toEqual([
      'PR description line 3: "#preview-config" — #preview-config outside a code fence is ignored, so the source is seed; put the block between ``` fences to use it',
    ]);
    expect(summarizePreviewConfig(config)).toMatch(/\nnotice: PR description line 3: .* outside a code fence is ignored/);
  });
  it('says nothing when the marker is only inside an HTML comment or a fence', () => {
    const body = ['<!-- #preview-config -->', '```', '#preview-config', 'database:', '  source: seed', '```'].join('\n');
    expect(parsePreviewConfig(body, { knownCollections: [] }).notices).toBeUndefined();
  });
});

describe('the one redaction', () => {
  it('removes registered secrets in every encoding, and secret-shaped parts of unknown text', () => {
    clearRegisteredSecrets();
    registerUriSecrets('mongodb://admin:p@ss/w%40rd@h/?tlsCertificateKeyFilePassword=k3y&authMechanismProperties=AWS_SESSION_TOKEN:t0ken');
    const text = 'failed p@ss/w%40rd p@ss/w@rd k3y t0ken https://u:pw@host/x password=abc tlsCertificateKeyFilePassword=zz';
    const out = redactSecrets(text);
    for (const leaked of ['p@ss', 'w%40rd', 'w@rd', 'k3y', 't0ken', ':pw@', 'abc', '=zz']) expect(out, leaked).not.toContain(leaked);
    expect(out).toContain('https://***@host/x');
    clearRegisteredSecrets();
  });

  it('reportFatal redacts messages and stacks, and names disk-full without a stack', () => {
    clearRegisteredSecrets();
    let written = '';
    const err = new Error('boom mongodb://u:s3cr3t@h/');
    expect(reportFatal(err, (s) => (written += s))).toBe(ExitCode.failure);
    expect(written).not.toContain('s3cr3t');
    written = '';
    const full = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', path: '/tmp/x' });
    reportFatal(full, (s) => (written += s));
    expect(written).toMatch(/^error: the disk is full \(\/tmp\/x\)/);
    expect(written).not.toMatch(/\n\s+at /);
  });
});
