/**
 * The main job end to end on the embedded default: a local FerretDB seeded
 * with a synthetic SyRF-like dataset, a `file://` store, and the real CLI.
 * `MONGODB_URI` points it at another server instead (then it only touches
 * the databases `syrftest_demo` and `syrf_pr_1`).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { MongoClient } from 'mongodb';
import { seedDataset } from '../test/support/dataset.js';
import { generateSigningKeyPair } from '../runtime/snapshot/signature.js';
import { ensureServerBinaries, startFerretDb, type RunningServer } from '../test/servers/servers.js';

const root = resolve(import.meta.dirname, '..');
const workDir = join(root, '.syrf-db', 'demo');
const store = `file://${join(workDir, 'store')}`;
const sourceDb = 'syrftest_demo';
const studies = Number(process.env.DEMO_STUDIES ?? 2000);
// Demo only: a key published in the repository protects nothing; production keys come from a Secret.
const demoKey = 'jZHfoe/R4UeygFdHlSg6+LhITw7vnQBPdem519IDHcfRLgidxQC2ytST9s16RCdc';

function cli(title: string, args: string[], env: Record<string, string> = {}): void {
  process.stdout.write(`\n$ syrf-db ${args.join(' ')}\n`);
  const result = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'runtime/cli/main.ts'), ...args], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, SYRF_LOG_FORMAT: 'text', ...env },
  });
  if (result.status !== 0) throw new Error(`${title} failed (exit ${result.status})`);
}

async function main(): Promise<void> {
  let server: RunningServer | undefined;
  let uri = process.env.MONGODB_URI;
  if (!uri) {
    process.stdout.write('building/starting a local FerretDB (first run builds it with Go, ~2 min)…\n');
    server = await startFerretDb(ensureServerBinaries());
    uri = server.url;
  }
  rmSync(workDir, { recursive: true, force: true });
  mkdirSync(workDir, { recursive: true });
  try {
    const client = new MongoClient(uri);
    await client.connect();
    const seeded = await seedDataset(client.db(sourceDb), { studies });
    await client.close();
    process.stdout.write(`seeded ${sourceDb}: ${JSON.stringify(seeded.counts)}\n`);

    // A throwaway signing pair, as production has one: the producer signs, restores check.
    const pair = generateSigningKeyPair();
    const env = { SYRF_ANONYMIZATION_KEY: demoKey, SYRF_MANIFEST_SIGNING_KEY: pair.privateKey };
    const restoreEnv = { SYRF_MANIFEST_PUBLIC_KEYS: pair.publicKey };
    cli('snapshot', ['snapshot', '--uri', uri, '--db', sourceDb, '--to', store, '--anonymize', '--rules', 'rules/anonymization-rules.yaml'], env);
    cli('list', ['list', '--from', store]);
    cli('show', ['show', 'latest', '--from', store]);
    cli('verify', ['verify', 'latest', '--from', store], restoreEnv);
    // The preview side has no key: it restores the anonymized snapshot, cut to the rules' size limits.
    cli('restore', ['restore', '--from', store, '--snapshot', 'latest', '--uri', uri, '--target', 'syrf_pr_1', '--rules', 'rules/anonymization-rules.yaml'], restoreEnv);
    process.stdout.write(`\ndemo complete: snapshots are in ${store}; syrf_pr_1 holds the anonymized preview data\n`);
  } finally {
    await server?.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`demo failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
