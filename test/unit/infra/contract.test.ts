/**
 * runtime/ and infra/ share one contract (runtime/contract). These tests fail when
 * either side drifts from it: a name the program writes that the guard refuses, a
 * snapshot id the config accepts that the store cannot read, a command the policy
 * pack does not recognise.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command } from 'commander';
import yaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import * as contract from '../../../runtime/contract/index.js';
import { registerCommands } from '../../../runtime/cli/commands/index.js';
import { mongoUriOption, resolveLogFormat } from '../../../runtime/cli/context.js';
import { KEY_ENV_VAR } from '../../../runtime/anonymize/key.js';
import { checkRestoreTarget, productionNamesFromEnv, STAGING_CONFIRMATION as GUARD_CONFIRMATION, STAGING_DB } from '../../../runtime/restore/guard.js';
import { isSnapshotId, LATEST_KEY, SNAPSHOT_ROOT } from '../../../runtime/store/layout.js';
import * as names from '../../../infra/names.js';
import { parseStackConfig } from '../../../infra/config.js';
import { invocations } from '../../../infra/policy/invariants.js';
import { sharedConfig } from './fixtures.js';

const root = resolve(import.meta.dirname, '../../..');

const SNAPSHOT_ID_CASES = [
  '2026-01-09', '2026-01-09-daily', '2026-01-09-manual-2', '2026-02-30', '2026-1-09', '2026-01-09-', '2026-01-09-Daily',
  '2026-01-09_x', 'prod', '../prod', 'my-snapshot', 'latest2', `2026-01-09-${'a'.repeat(41)}`, `2026-01-09-${'a'.repeat(42)}`,
];

function guardAccepts(target: string, confirm?: string): boolean {
  try {
    checkRestoreTarget({ target, sourceDb: contract.PROD_DATABASE, productionNames: [], ...(confirm === undefined ? {} : { confirm }) });
    return true;
  } catch {
    return false;
  }
}

describe('runtime and infra share one contract', () => {
  it('infra re-exports the contract values rather than its own copies', () => {
    expect(names.PROD_DATABASE).toBe(contract.PROD_DATABASE);
    expect(names.STAGING_DATABASE).toBe(contract.STAGING_DATABASE);
    expect(names.PREVIEW_DATABASE_PATTERN).toBe(contract.PREVIEW_DATABASE_PATTERN);
    expect(names.STAGING_CONFIRMATION).toBe(contract.STAGING_CONFIRMATION);
    expect(names.LATEST_MARKER).toBe(contract.LATEST_KEY);
    expect(names.SNAPSHOT_PREFIX).toBe(contract.SNAPSHOT_PREFIX);
  });

  it('the target guard accepts every preview database infra can name, staging only with the shared word, and never production', () => {
    for (const pr of [1, 7, 42, 1234, 2 ** 31]) {
      const db = names.previewDatabase(pr);
      expect(db).toMatch(contract.PREVIEW_DATABASE_PATTERN);
      expect(guardAccepts(db), db).toBe(true);
    }
    expect(STAGING_DB).toBe(contract.STAGING_DATABASE);
    expect(GUARD_CONFIRMATION).toBe(contract.STAGING_CONFIRMATION);
    expect(guardAccepts(contract.STAGING_DATABASE, contract.STAGING_CONFIRMATION)).toBe(true);
    expect(guardAccepts(contract.STAGING_DATABASE, 'yes')).toBe(false);
    expect(productionNamesFromEnv({})).toContain(contract.PROD_DATABASE);
    expect(guardAccepts(contract.PROD_DATABASE)).toBe(false);
  });

  it('names no PR database the contract does not recognise', () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) expect(() => contract.previewDatabase(bad)).toThrow(RangeError);
    for (const name of ['syrf_pr_0', 'syrf_pr_007', 'syrf_pr_', 'syrf_pr_1a', 'SYRF_PR_1', 'syrf_staging']) {
      expect(contract.prNumberOfDatabase(name), name).toBeUndefined();
    }
    expect(contract.prNumberOfDatabase('syrf_pr_42')).toBe(42);
  });

  it('the store, the stack config and the contract accept exactly the same snapshot ids', () => {
    expect(SNAPSHOT_ROOT).toBe(contract.SNAPSHOT_ROOT);
    expect(LATEST_KEY).toBe(contract.LATEST_KEY);
    for (const id of SNAPSHOT_ID_CASES) {
      const store = isSnapshotId(id);
      const config = (() => {
        try {
          parseStackConfig('pr-3', { ...sharedConfig, atlasClusterName: 'syrf-preview', dbSource: 'snapshot', snapshotId: id });
          return true;
        } catch {
          return false;
        }
      })();
      // The config cannot know calendars (2026-02-30); everything it accepts beyond that the store reads too.
      expect({ id, config }).toEqual({ id, config: contract.SNAPSHOT_REF_PATTERN.test(id) });
      if (store) expect(config, id).toBe(true);
      if (config && id !== '2026-02-30') expect(store, id).toBe(true);
    }
  });

  it('the CLI registers exactly the contract commands, so the policy pack recognises each', () => {
    const program = new Command();
    registerCommands(program);
    expect(program.commands.map((c) => c.name()).sort()).toEqual([...contract.CLI_COMMANDS].sort());
    for (const command of contract.CLI_COMMANDS) {
      const [call] = invocations({ containers: [{ name: 'c', args: ['--log-format', 'json', command] }] });
      expect(call?.subcommand).toBe(command);
    }
  });

  it('the CLI reads the environment variables the Jobs set', () => {
    expect(mongoUriOption(undefined, { [contract.ENV.mongoUri]: 'mongodb://x' })).toBe('mongodb://x');
    expect(resolveLogFormat(undefined, { [contract.ENV.logFormat]: 'json' })).toBe('json');
    expect(KEY_ENV_VAR).toBe(contract.ENV.anonymizationKey);
    expect(productionNamesFromEnv({ [contract.ENV.productionDatabases]: 'other' })).toContain('other');
  });

  it('the staging refresh workflow checks snapshot ids with the contract pattern and asks for the contract word', () => {
    const text = readFileSync(resolve(root, '.github/workflows/staging-db-refresh.yml'), 'utf8');
    const workflow = yaml.load(text) as { jobs: Record<string, { steps?: { run?: string }[] }> };
    const scripts = Object.values(workflow.jobs).flatMap((job) => job.steps ?? []).map((s) => s.run ?? '').join('\n');
    expect(scripts).toContain(`grep -Eq '${contract.SNAPSHOT_REF_PATTERN.source}'`);
    expect(text).toContain(`'${contract.STAGING_CONFIRMATION}'`);
  });
});
