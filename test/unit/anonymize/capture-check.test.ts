import { describe, expect, it } from 'vitest';
import { UserError } from '../../../runtime/errors.js';
import type { Logger } from '../../../runtime/ops/log.js';
import { captureAnonymization } from '../../../runtime/snapshot/anonymization-stage.js';
import { TEST_KEY, collect, eof, fromArray, prelude, rules, segment } from './helpers.js';

// A rule for a field the data lacks: a warning by default, a refusal under --strict when every document was read.
const RULES = rules('rules: { pmProject: { fields: { Name: { transform: keep, reason: titles }, Typo: hash_email } } }');
const events = () => fromArray([prelude('pmProject'), segment('pmProject', [{ _id: 1, Name: 'a' }, { _id: 2, Name: 'b' }, { _id: 3, Name: 'c' }]), eof('pmProject')]);

function recording(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  const none = () => {};
  return { warnings, debug: none, info: none, error: none, progress: none, warn: (msg: string) => warnings.push(msg) };
}

async function capture(check?: Parameters<typeof captureAnonymization>[3]) {
  const logger = recording();
  const stage = captureAnonymization(RULES, TEST_KEY, logger, check);
  try {
    await collect(stage.transform(events()));
    return { error: null, logger };
  } catch (error) {
    return { error, logger };
  }
}

describe('snapshot --anonymize: the coverage check inside the capture pipeline', () => {
  it('runs once per run (one report), not once in a wrapper and again in the pipeline', async () => {
    const { error, logger } = await capture({ sample: 'all', strict: false });
    expect(error).toBeNull();
    expect(logger.warnings.filter((w) => /Typo.*matched no document/.test(w))).toHaveLength(1);
  });

  it('--strict reaches the pipeline: a rule that matches nothing refuses the capture (exit 5)', async () => {
    const { error } = await capture({ sample: 'all', strict: true });
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).exitCode).toBe(5);
    expect((error as Error).message).toMatch(/pmProject\.Typo: rule matches no document/);
  });

  it('--check-sample reaches the pipeline: a sample that did not read every document only warns about unmatched rules', async () => {
    const { error, logger } = await capture({ sample: 1, strict: true });
    expect(error).toBeNull();
    expect(logger.warnings.filter((w) => /Typo.*matched no sampled document/.test(w))).toHaveLength(1);
  });

  it('the manifest names excluded collections only by names the rules contain', () => {
    const stage = captureAnonymization(rules('rules: { pmProject: {} }\nexclusions: [pmAuditLog]'), TEST_KEY, recording());
    expect(stage.publicName?.('pmAuditLog')).toBe('pmAuditLog');
    expect(stage.publicName?.('alice.smith@uni.ac.uk')).toMatch(/^<unnamed collection #\d+>$/);
    expect(stage.publicName?.('zqjanedoe_notes')).toMatch(/^<unnamed collection #\d+>$/);
  });
});
