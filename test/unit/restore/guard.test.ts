import { describe, expect, it } from 'vitest';
import { ExitCode, UserError } from '../../../runtime/errors.js';
import { checkAnonymizationRequirement, checkRestoreTarget, DEFAULT_TARGET_ALLOWLIST, productionNamesFromEnv, type RestoreTargetCheck } from '../../../runtime/restore/guard.js';
import { PREVIEW_DATABASE_PATTERN, previewDatabase, prNumberOfDatabase } from '../../../runtime/contract/databases.js';

function refusal(check: RestoreTargetCheck): UserError {
  try {
    checkRestoreTarget({ productionNames: [], ...check });
  } catch (error) {
    if (error instanceof UserError) return error;
    throw error;
  }
  throw new Error(`expected ${check.target} to be refused`);
}

describe('checkRestoreTarget', () => {
  it('allows preview databases', () => {
    expect(() => checkRestoreTarget({ target: 'syrf_pr_123', sourceDb: 'syrftest', productionNames: [] })).not.toThrow();
  });

  it('allows staging only with --confirm refresh-staging', () => {
    const error = refusal({ target: 'syrf_staging', sourceDb: 'syrftest' });
    expect(error.message).toBe('refusing to overwrite syrf_staging without confirmation');
    expect(error.hint).toContain('--confirm refresh-staging');
    expect(error.exitCode).toBe(ExitCode.refused);
    expect(refusal({ target: 'syrf_staging', sourceDb: 'syrftest', confirm: 'yes' }).message).toMatch(/without confirmation/);
    expect(() => checkRestoreTarget({ target: 'syrf_staging', sourceDb: 'syrftest', confirm: 'refresh-staging' })).not.toThrow();
  });

  it.each(['syrf', 'syrf_pr_', 'syrf_pr_12a', 'xsyrf_pr_12', 'syrf_pr_12_old', 'syrf_staging2', 'admin', 'syrf_pr_0', 'syrf_pr_007', 'syrf_pr_01', 'syrf_pr_12345678901'])('refuses %s, which no allowlist pattern matches', (target) => {
    const error = refusal({ target, sourceDb: 'syrftest' });
    expect(error.message).toBe(`refusing to write into "${target}": it matches none of the allowed target patterns (${PREVIEW_DATABASE_PATTERN.source}, ^syrf_staging$)`);
    expect(error.exitCode).toBe(ExitCode.refused);
  });

  it('accepts exactly the preview names the contract produces and recognises (one source of truth)', () => {
    const names = ['syrf_pr_0', 'syrf_pr_007', 'syrf_pr_1', 'syrf_pr_10', 'syrf_pr_9999999999', 'syrf_pr_10000000000', 'syrf_pr_1a', 'syrf_pr_', 'syrf_staging'];
    for (const name of names) {
      let allowed = true;
      try {
        checkRestoreTarget({ target: name, sourceDb: 'syrftest', productionNames: [], confirm: 'refresh-staging' });
      } catch {
        allowed = false;
      }
      const isPreview = prNumberOfDatabase(name) !== undefined;
      expect(allowed, name).toBe(isPreview || name === 'syrf_staging');
      if (isPreview) expect(previewDatabase(prNumberOfDatabase(name)!)).toBe(name);
    }
    expect(DEFAULT_TARGET_ALLOWLIST[0]).toBe(PREVIEW_DATABASE_PATTERN);
  });

  it('treats allowlist patterns as whole names even when they are not anchored', () => {
    expect(() => checkRestoreTarget({ target: 'preview_7', sourceDb: 'syrftest', allowlist: [/preview_\d+/], productionNames: [] })).not.toThrow();
    expect(refusal({ target: 'old_preview_7', sourceDb: 'syrftest', allowlist: [/preview_\d+/] }).message).toMatch(/matches none of the allowed/);
  });

  it('refuses the production database whatever the allowlist says, in any letter case', () => {
    for (const target of ['syrftest', 'SyrfTest']) {
      const error = refusal({ target, sourceDb: 'elsewhere', allowlist: [/.*/] });
      expect(error.message).toBe(`refusing to write into "${target}": it is a production database`);
      expect(error.exitCode).toBe(ExitCode.refused);
    }
  });

  it('refuses configured production names, even when they look like previews', () => {
    const error = refusal({ target: 'syrf_pr_1', sourceDb: 'syrftest', productionNames: ['syrf_pr_1'] });
    expect(error.message).toBe('refusing to write into "syrf_pr_1": it is a production database');
  });

  it("refuses the snapshot's own source database even when it is allowlisted", () => {
    const error = refusal({ target: 'syrf_pr_9', sourceDb: 'syrf_pr_9' });
    expect(error.message).toBe('refusing to write into "syrf_pr_9": it is the database this data was read from');
    expect(error.exitCode).toBe(ExitCode.refused);
  });

  it.each([
    ['', 'it is empty'],
    ['syrf_pr_1.x', 'it contains ".", which MongoDB does not allow'],
    ['syrf pr', 'it contains " "'],
    ['a/b', 'it contains "/"'],
    ['a$b', 'it contains "$"'],
    ['a"b', 'it contains "\\""'],
    ['a'.repeat(64), 'it is 64 bytes long; MongoDB allows at most 63'],
    ['é'.repeat(32), 'it is 64 bytes long'],
  ])('refuses the impossible name %j as a usage error', (target, problem) => {
    const error = refusal({ target, sourceDb: 'syrftest', allowlist: [/.*/] });
    expect(error.message).toContain(`"${target}" is not a valid database name: ${problem}`);
    expect(error.exitCode).toBe(ExitCode.usage);
  });
});

describe('productionNamesFromEnv', () => {
  it('always includes syrftest and adds SYRF_PRODUCTION_DBS', () => {
    expect(productionNamesFromEnv({})).toEqual(['syrftest']);
    expect(productionNamesFromEnv({ SYRF_PRODUCTION_DBS: ' syrf_prod, ,syrftest,reporting ' })).toEqual(['syrftest', 'syrf_prod', 'reporting']);
  });

  it('is what checkRestoreTarget uses when no names are passed', () => {
    const previous = process.env.SYRF_PRODUCTION_DBS;
    process.env.SYRF_PRODUCTION_DBS = 'syrf_pr_42';
    try {
      expect(() => checkRestoreTarget({ target: 'syrf_pr_42', sourceDb: 'syrftest' })).toThrow(/is a production database/);
      expect(() => checkRestoreTarget({ target: 'syrf_pr_43', sourceDb: 'syrftest' })).not.toThrow();
    } finally {
      if (previous === undefined) delete process.env.SYRF_PRODUCTION_DBS;
      else process.env.SYRF_PRODUCTION_DBS = previous;
    }
  });
});

describe('checkAnonymizationRequirement', () => {
  it('allows anonymized snapshots, and raw ones only with rules and key', () => {
    expect(() => checkAnonymizationRequirement({ manifestAnonymized: true, haveRulesAndKey: false })).not.toThrow();
    expect(() => checkAnonymizationRequirement({ manifestAnonymized: false, haveRulesAndKey: true })).not.toThrow();
  });

  it('refuses a raw snapshot without rules and key', () => {
    try {
      checkAnonymizationRequirement({ manifestAnonymized: false, haveRulesAndKey: false });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(UserError);
      const e = error as UserError;
      expect(e.message).toBe('refusing to restore a snapshot that is not anonymized (its manifest says anonymized: false)');
      expect(e.hint).toMatch(/--rules FILE with the anonymization key/);
      expect(e.exitCode).toBe(ExitCode.refused);
    }
  });
});
