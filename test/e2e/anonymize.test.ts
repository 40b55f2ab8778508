/**
 * The anonymization commands against the real test servers: `rules check`
 * samples a live database and fails on uncovered PII; `syrf-db anonymize`
 * filters an archive of that database's documents, leaks nothing, writes
 * its output atomically, and (where mongorestore is available) the result restores.
 */
import { createWriteStream, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Binary, BSON, type Document } from 'bson';
import type { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGzipArchiveWriter, openArchive } from '../../runtime/archive/index.js';
import { findMongoTools, runTool } from '../fixtures/archive/mongo-tools.js';
import { runCli, spawnCli } from '../support/cli.js';
import { connectMongo, mongodbUri, tempDir, uniqueDbName } from '../support/servers.js';

const KEY = 'e2e-anonymization-key-0123456789abcdefghij';
const COLLECTIONS = ['pmInvestigator', 'pmProject', 'pmStudy', 'pmAuditLog'];
const RULES = `
rules:
  pmInvestigator:
    privacy_by_default: true
    fields:
      Email: hash_email
      FirstName: sequential
      LastName: sequential_suffix
      Auth0Id: { transform: hash, prefix: "anon|" }
  pmProject:
    fields:
      ContactEmail: hash_email
exclusions: [pmAuditLog]
size_limits:
  pmProject: { max_documents: 5 }
  pmStudy:
    follows: { collection: pmProject, field: ProjectId }
`;

const PII = ['Ophelia.Marchbanks@uni-example.ac.uk', 'Ophelia', 'Marchbanks', 'auth0|61a7f0c2d9e8b7a6c5d4e3f2', 'lab.manager@marchbanks-lab.org'];

function csuuid(n: number): Binary {
  return new Binary(Buffer.from(n.toString(16).padStart(32, '7'), 'hex'), Binary.SUBTYPE_UUID_OLD);
}

function dataset(): Record<string, Document[]> {
  return {
    pmInvestigator: [
      { _id: csuuid(1), Email: PII[0], FirstName: PII[1], LastName: PII[2], Auth0Id: PII[3], Affiliation: 'Marchbanks group' },
      { _id: csuuid(2), Email: PII[0]!.toUpperCase(), FirstName: 'Bo', LastName: 'Li', Auth0Id: 'auth0|abcdef0123456789' },
    ],
    pmProject: Array.from({ length: 12 }, (_, i) => ({ _id: csuuid(100 + i), Name: `Project ${i}`, ContactEmail: i === 0 ? PII[4] : `pi${i}@example.org` })),
    pmStudy: Array.from({ length: 36 }, (_, i) => ({ _id: csuuid(1000 + i), ProjectId: csuuid(100 + (i % 12)), Title: `Study ${i}` })),
    pmAuditLog: [{ _id: csuuid(9000), Who: PII[0], What: 'login' }],
  };
}

describe('anonymization end to end', () => {
  let client: MongoClient;
  let work: ReturnType<typeof tempDir>;
  let dbName: string;
  let rulesPath: string;
  let archivePath: string;
  const dropAfter: string[] = [];

  beforeAll(async () => {
    client = await connectMongo();
    work = tempDir('syrf-anonymize-e2e-');
    dbName = uniqueDbName('anon_src_');
    dropAfter.push(dbName);
    for (const [name, docs] of Object.entries(dataset())) await client.db(dbName).collection(name).insertMany(docs);
    rulesPath = join(work.path, 'rules.yaml');
    writeFileSync(rulesPath, RULES);
    archivePath = join(work.path, 'source.archive.gz');
    await dumpWithOurWriter(client, dbName, archivePath);
  });

  afterAll(async () => {
    for (const name of dropAfter) await client.db(name).dropDatabase().catch(() => undefined);
    await client?.close();
    work?.remove();
  });

  it('rules check on a live database passes when the rules cover the PII and fails (exit 5) when they do not', async () => {
    const ok = await runCli(['rules', 'check', '--rules', rulesPath, '--uri', mongodbUri(), '--db', dbName]);
    expect(ok.stderr).not.toContain('unexpected failure');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('no uncovered PII-looking fields found');

    const weaker = join(work.path, 'weaker.yaml');
    writeFileSync(weaker, RULES.replace('      ContactEmail: hash_email\n', '      Name: { transform: keep, reason: titles }\n'));
    const bad = await runCli(['rules', 'check', '--rules', weaker, '--uri', mongodbUri(), '--db', dbName]);
    expect(bad.code).toBe(5);
    expect(bad.stdout).toMatch(/pmProject\s+ContactEmail\s+email/);
    expect(bad.stdout + bad.stderr).not.toContain(PII[4]);
  });

  it('anonymizes an archive: no PII in the output, referential subset intact', async () => {
    const out = join(work.path, 'anon.archive.gz');
    const result = await runCli(['anonymize', '--rules', rulesPath, '--input', archivePath, '--output', out, '--gzip'], {
      env: { SYRF_ANONYMIZATION_KEY: KEY },
    });
    expect(result.stderr).not.toContain('error');
    expect(result.code).toBe(0);
    const bytes = gunzipSync(readFileSync(out));
    const text = bytes.toString('utf8').toLowerCase();
    expect(PII.filter((v) => text.includes(v.toLowerCase()))).toEqual([]);

    const docs = await readDocuments(bytes);
    expect([...docs.keys()].sort()).toEqual(['pmInvestigator', 'pmProject', 'pmStudy']);
    expect(docs.get('pmProject')).toHaveLength(5);
    const kept = new Set(docs.get('pmProject')!.map((p) => hex(p._id)));
    expect(docs.get('pmStudy')).toHaveLength(15);
    expect(docs.get('pmStudy')!.every((s) => kept.has(hex(s.ProjectId)))).toBe(true);

    const tools = findMongoTools();
    if (tools) {
      const target = uniqueDbName('anon_restore_');
      dropAfter.push(target);
      await runTool(tools.mongorestore, ['--uri', mongodbUri(), `--archive=${out}`, '--gzip', `--nsFrom=${dbName}.*`, `--nsTo=${target}.*`]);
      expect(await client.db(target).collection('pmStudy').countDocuments()).toBe(15);
      const investigator = await client.db(target).collection('pmInvestigator').findOne({});
      expect(String(investigator?.Email)).toMatch(/@anonymized\.syrf\.local$/);
    }
  });

  it('streams stdin to stdout', async () => {
    const child = spawnCli(['anonymize', '--rules', rulesPath, '--input', '-', '--output', '-', '--no-size-limits'], { env: { SYRF_ANONYMIZATION_KEY: KEY } });
    const chunks: Buffer[] = [];
    child.stdout!.on('data', (c: Buffer) => chunks.push(c));
    child.stdin!.end(readFileSync(archivePath));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(0);
    const docs = await readDocuments(Buffer.concat(chunks));
    expect(docs.get('pmProject')).toHaveLength(12);
    expect(docs.get('pmStudy')).toHaveLength(36);
  });

  it('refuses without a key and leaves nothing half-written on failure', async () => {
    const out = join(work.path, 'refused.archive.gz');
    const noKey = await runCli(['anonymize', '--rules', rulesPath, '--input', archivePath, '--output', out], { env: { SYRF_ANONYMIZATION_KEY: '' } });
    expect(noKey.code).toBe(3);
    expect(noKey.stderr).toContain('SYRF_ANONYMIZATION_KEY');
    expect(existsSync(out)).toBe(false);

    const truncated = join(work.path, 'truncated.archive.gz');
    const whole = readFileSync(archivePath);
    writeFileSync(truncated, whole.subarray(0, Math.floor(whole.length / 2)));
    const broken = await runCli(['anonymize', '--rules', rulesPath, '--input', truncated, '--output', out], { env: { SYRF_ANONYMIZATION_KEY: KEY } });
    expect(broken.code).toBe(4);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(work.path).filter((f) => f.endsWith('.partial'))).toEqual([]);
  });
});

/** The server's documents, as stored, written as a gzip mongodump archive. */
async function dumpWithOurWriter(client: MongoClient, db: string, path: string): Promise<void> {
  const file = createWriteStream(path);
  const writer = createGzipArchiveWriter(file);
  await writer.writePrelude(
    { concurrentCollections: 4, version: '0.1', serverVersion: '7.0.12', toolVersion: 'e2e' },
    COLLECTIONS.map((collection) => ({ db, collection, metadata: JSON.stringify({ indexes: [], uuid: '', collectionName: collection, type: 'collection' }), size: 0, type: 'collection' })),
  );
  for (const collection of COLLECTIONS) {
    const raw = (await client.db(db).collection(collection).find({}, { raw: true }).toArray()) as unknown as Buffer[];
    await writer.writeSegment(db, collection, raw.map((b) => Buffer.from(b)));
    await writer.writeEof(db, collection);
  }
  await writer.end();
}

async function readDocuments(bytes: Buffer): Promise<Map<string, Document[]>> {
  const out = new Map<string, Document[]>();
  async function* once() {
    yield bytes;
  }
  for await (const event of openArchive(once())) {
    if (event.type === 'segment') out.set(event.collection, [...(out.get(event.collection) ?? []), ...event.documents.map((d) => BSON.deserialize(d))]);
  }
  return out;
}

function hex(value: unknown): string {
  return Buffer.from((value as Binary).buffer).toString('hex');
}
