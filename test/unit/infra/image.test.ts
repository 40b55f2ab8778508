import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * No Docker engine here, so this replays the Dockerfile's final stage by
 * hand: a clean directory with only package.json, the lockfile and the
 * built JS, a production-only `npm ci`, then the entrypoint's `--help`.
 * It proves the shipped dependency set is enough to run the CLI.
 */

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../../..');
let app: string;

beforeAll(async () => {
  app = mkdtempSync(join(tmpdir(), 'syrf-db-image-'));
  cpSync(join(root, 'package.json'), join(app, 'package.json'));
  cpSync(join(root, 'package-lock.json'), join(app, 'package-lock.json'));
  // Same build as the Dockerfile's build stage, into the temp dir so the repo's dist/ is untouched.
  await run('npx', ['tsc', '-p', join(root, 'tsconfig.build.json'), '--outDir', join(app, 'dist')], { cwd: root }).catch((error: unknown) => {
    // Type errors still emit JS; the --help run below is what decides.
    void error;
  });
  const install = ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund'];
  await run('npm', [...install, '--offline'], { cwd: app }).catch(() => run('npm', install, { cwd: app }));
}, 120_000);

afterAll(() => {
  if (app !== undefined) rmSync(app, { recursive: true, force: true });
});

describe('runtime image (final stage replayed)', () => {
  it('installs no dev dependency', async () => {
    const { stdout } = await run('npm', ['ls', '--omit=dev', '--depth=0', '--json'], { cwd: app });
    const deps = Object.keys((JSON.parse(stdout) as { dependencies?: Record<string, unknown> }).dependencies ?? {});
    expect(deps).toContain('mongodb');
    expect(deps.filter((d) => d.startsWith('@pulumi/') || d === 'typescript' || d === 'vitest')).toEqual([]);
  });

  it('runs `syrf-db --help` from the production install', async () => {
    const { stdout } = await run(process.execPath, [join(app, 'dist/runtime/cli/main.js'), '--help'], { cwd: app });
    expect(stdout).toMatch(/Usage: syrf-db/);
  });
});
