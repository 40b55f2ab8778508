import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExitCode, UserError } from '../../../runtime/errors.js';
import { loadAnonymizationKey } from '../../../runtime/anonymize/key.js';

const GOOD = 'k'.repeat(20) + 'Q9v7s2LmX0pZ4tR8';

describe('loadAnonymizationKey', () => {
  it('reads SYRF_ANONYMIZATION_KEY', async () => {
    expect((await loadAnonymizationKey({ env: { SYRF_ANONYMIZATION_KEY: GOOD } })).toString()).toBe(GOOD);
  });

  it('prefers --key-file and ignores its trailing newline', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'syrf-key-'));
    const file = join(dir, 'key');
    writeFileSync(file, GOOD + '\n');
    const key = await loadAnonymizationKey({ keyFile: file, env: { SYRF_ANONYMIZATION_KEY: 'x'.repeat(40) } });
    expect(key.toString()).toBe(GOOD);
  });

  it.each([
    ['absent', {}],
    ['empty', { SYRF_ANONYMIZATION_KEY: '' }],
    ['too short', { SYRF_ANONYMIZATION_KEY: 'short-key' }],
  ])('refuses when the key is %s', async (_what, env) => {
    const error = await loadAnonymizationKey({ env }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).exitCode).toBe(ExitCode.refused);
    expect((error as UserError).hint).toContain('SYRF_ANONYMIZATION_KEY');
  });

  it('refuses a missing key file, naming it', async () => {
    const error = await loadAnonymizationKey({ keyFile: '/nonexistent/key', env: {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).message).toContain('/nonexistent/key');
    expect((error as UserError).exitCode).toBe(ExitCode.refused);
  });
});
