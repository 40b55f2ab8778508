import { describe, expect, it } from 'vitest';
import { ExitCode, UserError } from '../../../runtime/errors.js';
import { checkManifestTrust, checkSigningRequirement, unsignedAllowedByEnv } from '../../../runtime/snapshot/signature.js';
import { runCli } from '../../support/cli.js';

describe('an anonymized snapshot is published signed, or not at all', () => {
  it('refuses an unsigned anonymized snapshot unless development mode says so', () => {
    const error = (() => {
      try {
        checkSigningRequirement({ anonymized: true, signed: false, allowUnsigned: false });
      } catch (e) {
        return e as UserError;
      }
      throw new Error('not refused');
    })();
    expect(error.message).toMatch(/refusing to publish an anonymized snapshot without signing its manifest/);
    expect(error.exitCode).toBe(ExitCode.refused);
    expect(() => checkSigningRequirement({ anonymized: true, signed: true, allowUnsigned: false })).not.toThrow();
    expect(() => checkSigningRequirement({ anonymized: true, signed: false, allowUnsigned: true })).not.toThrow();
    expect(() => checkSigningRequirement({ anonymized: false, signed: false, allowUnsigned: false })).not.toThrow();
    expect(unsignedAllowedByEnv({ SYRF_ALLOW_UNSIGNED_MANIFEST: 'development' })).toBe(true);
    for (const value of ['1', 'true', 'yes', '', undefined]) expect(unsignedAllowedByEnv({ SYRF_ALLOW_UNSIGNED_MANIFEST: value })).toBe(false);
  });

  it('the CLI refuses before touching the database (unreachable here) or the store', async () => {
    const result = await runCli(
      ['snapshot', '--uri', 'mongodb://127.0.0.1:1/', '--db', 'x', '--to', 'file:///nonexistent/never-created', '--anonymize', '--rules', 'rules/anonymization-rules.yaml'],
      { env: { SYRF_ALLOW_UNSIGNED_MANIFEST: '', SYRF_MANIFEST_SIGNING_KEY: '', SYRF_ANONYMIZATION_KEY: 'n7Rk2Qx9LvB4mT8wZ1cY6pH3dF5gJ0sAq8Ue2Xi7oW4tN9bK3yV6zM1rC5aE0hG', SYRF_MONGO_TIMEOUT_MS: '1000' } },
    );
    expect(result.code, result.stderr).toBe(3);
    expect(result.stderr).toMatch(/^error: refusing to publish an anonymized snapshot without signing its manifest/m);
    expect(result.stderr).toMatch(/what to do: set SYRF_MANIFEST_SIGNING_KEY/);
  }, 60_000);

  it('a restore whose public-key list is set but empty trusts no anonymized manifest', () => {
    const manifest = JSON.stringify({ anonymization: { anonymized: true } });
    expect(() => checkManifestTrust(manifest, 'm', { SYRF_MANIFEST_PUBLIC_KEYS: '' })).toThrow(/refusing m: it says anonymized: true but is not signed/);
    expect(() => checkManifestTrust(JSON.stringify({ anonymization: { anonymized: false } }), 'm', { SYRF_MANIFEST_PUBLIC_KEYS: '' })).not.toThrow();
    expect(() => checkManifestTrust(manifest, 'm', {})).not.toThrow();
  });
});
