/**
 * Without mongo-tools: our restore of the committed collection-addressable
 * snapshot (dump.gz and preview.gz) loads exactly the documents and indexes
 * that the real `mongorestore --archive --gzip` loaded from the same files
 * (recorded in addressable-expected.json; test/e2e/mongo-tools.test.ts
 * re-checks that record live where the tools are installed).
 */
import { cpSync } from 'node:fs';
import type { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../runtime/ops/log.js';
import { restoreSnapshot } from '../../runtime/restore/restore.js';
import { FileStore } from '../../runtime/store/file-store.js';
import { LATEST_KEY, SNAPSHOT_OBJECTS, SNAPSHOT_PREFIX } from '../../runtime/contract/snapshots.js';
import { CountingStore } from '../support/counting-store.js';
import { ADDRESSABLE_SNAPSHOT_ID, ADDRESSABLE_STORE, readAddressableExpected } from '../fixtures/archive/addressable.js';
import { describeDatabase } from '../fixtures/archive/mongo-tools.js';
import { connectMongo, tempDir } from '../support/servers.js';

const prDb = () => `syrf_pr_${Math.floor(Math.random() * 1e9)}`;

describe('committed collection-addressable fixtures', () => {
  let client: MongoClient;
  let store: ReturnType<typeof tempDir>;
  const targets: string[] = [];

  beforeAll(async () => {
    client = await connectMongo();
    // A copy: the committed files are never opened for writing.
    store = tempDir('syrf-addressable-fixture-store-');
    cpSync(ADDRESSABLE_STORE, store.path, { recursive: true });
  });

  afterAll(async () => {
    for (const name of targets) await client.db(name).dropDatabase().catch(() => undefined);
    await client?.close();
    store?.remove();
  });

  for (const edition of ['full', 'preview'] as const) {
    it(`our restore of the ${edition} edition loads what mongorestore loaded: same documents, same types, same indexes`, async () => {
      const target = prDb();
      targets.push(target);
      const result = await restoreSnapshot({ store: new FileStore(store.path), snapshot: ADDRESSABLE_SNAPSHOT_ID, client, target, edition, holder: 'e2e', logger: silentLogger });
      expect(result.edition).toBe(edition);
      const restored = (await describeDatabase(client.db(target))).filter((c) => !c.name.startsWith('_syrf'));
      expect(restored).toEqual(readAddressableExpected()[edition === 'full' ? 'dump' : 'preview']);
    });
  }

  it("a restore reads only objects the restorer's bucket grant lets it read (infra/identities.ts builds the grant from SNAPSHOT_OBJECTS)", async () => {
    const touched: string[] = [];
    class RecordingStore extends CountingStore {
      override readText(key: string): Promise<string> {
        touched.push(key);
        return super.readText(key);
      }
      override stat(key: string) {
        touched.push(key);
        return super.stat(key);
      }
    }
    for (const edition of ['full', 'preview'] as const) {
      const target = prDb();
      targets.push(target);
      const recording = new RecordingStore(new FileStore(store.path));
      await restoreSnapshot({ store: recording, snapshot: 'latest', client, target, edition, holder: 'e2e', logger: silentLogger });
      touched.push(...recording.reads.map((read) => read.key));
    }
    const granted = (key: string) => key === LATEST_KEY || (key.startsWith(SNAPSHOT_PREFIX) && SNAPSHOT_OBJECTS.some((file) => key.endsWith(`/${file}`)));
    expect(touched.some((key) => key.endsWith('/preview.gz'))).toBe(true);
    expect(touched.filter((key) => !granted(key))).toEqual([]);
  });

  it('the preview edition keeps no dangling references: every kept project owner, member and study decision names a kept investigator', () => {
    const { preview } = readAddressableExpected();
    const documents = (name: string) => preview.find((c) => c.name === name)!.documents.map((d) => JSON.parse(d) as Record<string, unknown>);
    const id = (value: unknown) => JSON.stringify(value);
    const investigators = new Set(documents('pmInvestigator').map((d) => id(d._id)));
    const projects = documents('pmProject');
    const named = [
      ...projects.flatMap((p) => (p.Memberships as { InvestigatorId: unknown }[]).map((m) => m.InvestigatorId)),
      ...documents('pmStudy').flatMap((s) => ((s.Screening as { Decisions: { InvestigatorId: unknown }[] }).Decisions ?? []).map((d) => d.InvestigatorId)),
    ].map(id);
    expect(named.filter((x) => !investigators.has(x))).toEqual([]);
    const projectIds = new Set(projects.map((p) => id(p._id)));
    expect(documents('pmStudy').filter((s) => !projectIds.has(id(s.ProjectId)))).toEqual([]);
  });
});
