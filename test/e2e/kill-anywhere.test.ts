/**
 * Kill-anywhere: restores and clones of a multi-collection snapshot are
 * stopped (SIGKILL, or SIGTERM) at every named fault point and at seeded
 * random ones, each followed by the next run. After the next run the
 * target must hold entirely one version — never a mix, never a missing
 * collection, never a leftover temporary — and that run must not be
 * refused by the dead run's lock.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Db, MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killedByFault, runCli, runCliWithFault, type CliResult } from '../support/cli.js';
import { seededRandom } from '../support/random.js';
import { connectMongo, isFerretDb, mongodbUri, tempDir, uniqueDbName } from '../support/servers.js';

const KEY = { SYRF_ANONYMIZATION_KEY: 'n7Rk2Qx9LvB4mT8wZ1cY6pH3dF5gJ0sAq8Ue2Xi7oW4tN9bK3yV6zM1rC5aE0hG' };
const COLLECTIONS = ['alpha', 'b.dotted', 'gamma', 'delta'];
const DOCS = { A: 30, B: 45 } as const;
type Version = keyof typeof DOCS;

interface Fault {
  kind: 'restore' | 'clone';
  point: string;
  action: 'kill' | 'term';
  /** Reached only where the server lacks an atomic rename-over. */
  ferretOnly?: boolean;
}

const PLANNED: Fault[] = [
  ...[
    'restore.download.chunk:1',
    'restore.lock.acquired:1',
    'restore.load.batch:1',
    'restore.load.batch:3',
    'restore.load.done:1',
    'restore.swap.journal-written:1',
    'restore.swap.after-rename:1',
    'restore.swap.after-rename:3',
    'restore.swap.applied:1',
  ].map((point) => ({ kind: 'restore' as const, point, action: 'kill' as const })),
  { kind: 'restore', point: 'restore.swap.after-set-aside:2', action: 'kill', ferretOnly: true },
  ...['restore.lock.acquired:1', 'restore.load.batch:2', 'restore.swap.journal-written:1', 'restore.swap.after-rename:2'].map((point) => ({
    kind: 'clone' as const,
    point,
    action: 'kill' as const,
  })),
  { kind: 'clone', point: 'restore.swap.after-set-aside:1', action: 'kill', ferretOnly: true },
  ...['restore.load.batch:1', 'restore.swap.journal-written:1', 'restore.swap.after-rename:2'].map((point) => ({ kind: 'restore' as const, point, action: 'term' as const })),
  { kind: 'clone', point: 'restore.load.batch:2', action: 'term' },
];

/** Seeded extra points: any point, any hit count that is certainly reached. */
function seededFaults(count: number, seed: number): Fault[] {
  const random = seededRandom(seed);
  const points: Array<[string, number]> = [
    ['restore.load.batch', COLLECTIONS.length],
    ['restore.swap.after-rename', COLLECTIONS.length],
    ['restore.swap.journal-written', 1],
    ['restore.load.done', 1],
  ];
  return Array.from({ length: count }, () => {
    const [point, max] = points[Math.floor(random() * points.length)]!;
    return {
      kind: random() < 0.5 ? 'restore' : 'clone',
      point: `${point}:${1 + Math.floor(random() * max)}`,
      action: random() < 0.75 ? 'kill' : 'term',
    } satisfies Fault;
  });
}

async function seedVersion(db: Db, version: Version): Promise<void> {
  for (const name of COLLECTIONS) {
    const docs = Array.from({ length: DOCS[version] }, (_, i) => ({ _id: i, v: version, label: `${name}-${i}`, nested: { b: 1, '2': 2 } }));
    await db.collection<{ _id: number }>(name).insertMany(docs);
    await db.collection(name).createIndex({ label: 1 });
  }
}

/** What the target holds: one version for all collections, or a description of the damage. */
async function inspect(db: Db): Promise<{ version?: Version; problems: string[] }> {
  const names = (await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name);
  const problems: string[] = [];
  const leftovers = names.filter((n) => n.startsWith('_syrf_tmp_') || n.startsWith('_syrf_old_'));
  if (leftovers.length) problems.push(`leftover temporaries: ${leftovers.join(', ')}`);
  if ((await db.collection('_syrf_restore_lock').countDocuments()) > 0) problems.push('lock still held');
  const versions = new Set<string>();
  for (const name of COLLECTIONS) {
    if (!names.includes(name)) {
      problems.push(`missing ${name}`);
      continue;
    }
    const found = await db.collection(name).distinct('v');
    const count = await db.collection(name).countDocuments();
    if (found.length !== 1) problems.push(`${name} mixes ${found.join('+')}`);
    for (const v of found) versions.add(String(v));
    if (found.length === 1 && count !== DOCS[found[0] as Version]) problems.push(`${name} has ${count} documents of ${found[0]}`);
  }
  if (versions.size > 1) problems.push(`target mixes versions ${[...versions].join('+')}`);
  const only = [...versions][0] as Version | undefined;
  return { ...(versions.size === 1 && only ? { version: only } : {}), problems };
}

describe('kill anywhere during restore and clone', () => {
  let client: MongoClient;
  const dir = tempDir();
  const store = () => `file://${dir.path}/store`;
  const sources = { A: uniqueDbName('killsrca_'), B: uniqueDbName('killsrcb_') };
  /** Preview databases holding each version, as clone sources. */
  const cloneSources = { A: `syrf_pr_${900_000_000 + Math.floor(Math.random() * 1e6)}`, B: `syrf_pr_${910_000_000 + Math.floor(Math.random() * 1e6)}` };
  const target = `syrf_pr_${920_000_000 + Math.floor(Math.random() * 1e6)}`;
  const snapshotOf = { A: '2026-05-01', B: '2026-05-02' } as const;

  const rules = () => join(dir.path, 'rules.yaml');

  beforeAll(async () => {
    client = await connectMongo();
    // Test data with no personal data: every collection is named and kept whole, so versions stay comparable.
    const keepAll = COLLECTIONS.map((name) => `  "${name}":\n    default: { transform: keep_subtree, reason: test data without personal data }\n`).join('');
    await writeFile(rules(), `version: 2\nrules:\n${keepAll}`);
    for (const version of ['A', 'B'] as const) {
      await seedVersion(client.db(sources[version]), version);
      const snap = await runCli(['snapshot', '--uri', mongodbUri(), '--db', sources[version], '--to', store(), '--id', snapshotOf[version], '--anonymize', '--rules', rules()], { env: KEY });
      expect(snap.code, snap.stderr).toBe(0);
      const restored = await runCli(['restore', '--from', store(), '--snapshot', snapshotOf[version], '--uri', mongodbUri(), '--target', cloneSources[version]]);
      expect(restored.code, restored.stderr).toBe(0);
    }
    const initial = await runCli(['restore', '--from', store(), '--snapshot', snapshotOf.A, '--uri', mongodbUri(), '--target', target]);
    expect(initial.code, initial.stderr).toBe(0);
  });

  afterAll(async () => {
    for (const name of [...Object.values(sources), ...Object.values(cloneSources), target]) await client.db(name).dropDatabase();
    await client.close();
    dir.remove();
  });

  const argsFor = (kind: Fault['kind'], version: Version) =>
    kind === 'restore'
      ? ['restore', '--from', store(), '--snapshot', snapshotOf[version], '--uri', mongodbUri(), '--target', target]
      : ['clone', '--uri', mongodbUri(), '--from', cloneSources[version], '--target', target];

  it('0 mixed targets, 0 missing collections, 0 leftovers; the next run is never refused', async () => {
    const faults = [...PLANNED.filter((f) => !f.ferretOnly || isFerretDb()), ...seededFaults(4, 20260501)].slice(0, 25);
    const db = client.db(target);
    const windows: number[] = [];
    const report: string[] = [];
    let mixedOrBroken = 0;

    for (const [i, fault] of faults.entries()) {
      const before = await inspect(db);
      expect(before.problems, `before iteration ${i}`).toEqual([]);
      const next: Version = before.version === 'A' ? 'B' : 'A';

      const stopped = await runCliWithFault(argsFor(fault.kind, next), `${fault.point}:${fault.action}`);
      if (fault.action === 'kill') {
        expect(killedByFault(stopped), `${fault.kind} ${fault.point}: ${stopped.stderr}`).toBe(true);
      } else {
        expect(stopped.code, `${fault.kind} ${fault.point}: ${stopped.stderr}`).toBe(1);
        expect(stopped.stderr).toMatch(/stopped by SIGTERM/);
        expect(stopped.stderr).not.toMatch(/unexpected failure|\n\s+at /);
        // A graceful stop leaves nothing to recover: no lock, no temporaries, one version.
        expect((await inspect(db)).problems, `after SIGTERM at ${fault.point}`).toEqual([]);
      }

      // The next run: alternately `recover` and simply the next restore/clone.
      const started = Date.now();
      let after: CliResult;
      let expected: Version | undefined;
      if (i % 2 === 0) {
        after = await runCli(['recover', '--uri', mongodbUri(), '--target', target]);
        expect(after.stdout).toMatch(/^recovered /);
      } else {
        expected = before.version === 'A' ? 'A' : 'B';
        after = await runCli(argsFor(fault.kind === 'restore' ? 'clone' : 'restore', expected));
      }
      const waitedMs = Date.now() - started;
      expect(after.code, `next run after ${fault.point}: ${after.stderr}`).toBe(0);
      expect(after.stderr).not.toMatch(/is locked by another restore/);
      const state = await inspect(db);
      if (state.problems.length) mixedOrBroken++;
      expect(state.problems, `after ${fault.kind} ${fault.action} at ${fault.point} and the next run`).toEqual([]);
      if (expected) expect(state.version).toBe(expected);
      for (const match of `${stopped.stderr}\n${after.stderr}`.matchAll(/target mixed for ([\d.]+) ms/g)) windows.push(Number(match[1]));
      report.push(`${fault.kind} ${fault.action}@${fault.point} → ${state.version} (next run ${waitedMs} ms)`);
    }
    expect(mixedOrBroken).toBe(0);
    const sorted = windows.sort((a, b) => a - b);
    console.log(
      `kill-anywhere: ${faults.length} iterations, ${new Set(faults.map((f) => f.point.split(':')[0])).size} distinct fault points; ` +
        `mixed-view window over ${sorted.length} swaps: median ${sorted[Math.floor(sorted.length / 2)]?.toFixed(1)} ms, max ${sorted.at(-1)?.toFixed(1)} ms\n` +
        report.join('\n'),
    );
  }, 900_000);
});
