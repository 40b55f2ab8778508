/**
 * The leak-proof guarantee: known PII goes through the real pipeline
 * (archive writer → reader → anonymize → gzip archive writer → bytes) and
 * not one original value, in any letter case, may appear in the output.
 */
import { PassThrough } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { Binary, Int32, type Document } from 'bson';
import { describe, expect, it } from 'vitest';
import { ArchiveWriter, createGzipArchiveWriter, readArchive, writeEvents } from '../../../runtime/archive/index.js';
import { anonymizeArchive } from '../../../runtime/anonymize/filter.js';
import { loadRules } from '../../../runtime/anonymize/rules.js';
import { repoRoot } from '../../support/cli.js';
import { TEST_KEY, bson, decode, namespace } from './helpers.js';
import { join } from 'node:path';

const PII = {
  emails: ['Jane.Doe@Uni-Example.ac.uk', 'jdoe+syrf@gmail.com', 'PROF.SMITH@RESEARCH.ORG', 'noreply.owner@lab.example'],
  firstNames: ['Janessa', 'Bartholomew', 'Oluwaseun'],
  lastNames: ['Doe-Fairweather', 'Smithington', 'Adebayo-Kline'],
  authIds: ['auth0|5f3c9e8a1b2c3d4e5f6a7b8c', 'google-oauth2|104729384756129384756'],
  phones: ['+44 131 650 9999'],
  bio: ['Lives at 14 Quarrybank Crescent'],
};

function csuuid(n: number): Binary {
  return new Binary(Buffer.from(n.toString(16).padStart(32, 'a'), 'hex'), Binary.SUBTYPE_UUID_OLD);
}

function dataset(): Record<string, Document[]> {
  const investigators = PII.firstNames.map((first, i) => ({
    _id: csuuid(i),
    _t: 'Investigator',
    Email: i === 1 ? PII.emails[0]!.toUpperCase() : PII.emails[i]!, // odd casing of a value repeated elsewhere
    FirstName: first,
    LastName: PII.lastNames[i]!,
    Auth0Id: PII.authIds[i % 2]!,
    Phone: i === 0 ? PII.phones[0]! : null,
    Bio: i === 2 ? PII.bio[0]! : 'researcher',
    LoginCount: new Int32(5 + i),
    Settings: { Notify: { Address: PII.emails[3]! }, Aliases: [PII.firstNames[i]!.toLowerCase()] },
  }));
  const projects = [0, 1, 2].map((i) => ({
    _id: csuuid(100 + i),
    Name: `Stroke meta-analysis ${i}`,
    ContactEmail: i === 2 ? 'not an email at all: ' + PII.emails[1]! : PII.emails[i]!,
  }));
  const audit = [{ _id: csuuid(900), Who: PII.emails[2]!, Action: 'login' }];
  const exportJobs = [{ _id: csuuid(700), ProjectId: csuuid(100), RequestedBy: { Email: PII.emails[3]!, Name: PII.firstNames[0]! }, Recipients: [PII.emails[1]!] }];
  return { pmInvestigator: investigators, pmProject: projects, pmAuditLog: audit, pmDataExportJob: exportJobs };
}

async function archiveBytes(collections: Record<string, Document[]>): Promise<Buffer> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  const writer = new ArchiveWriter(out);
  await writer.writePrelude(
    { concurrentCollections: 4, version: '0.1', serverVersion: '7.0.0', toolVersion: 'leak-test' },
    Object.keys(collections).map((c) => namespace(c)),
  );
  for (const [collection, docs] of Object.entries(collections)) {
    // Interleave: split every collection into single-document segments.
    for (const doc of docs) await writer.writeSegment('syrftest', collection, [bson(doc)]);
  }
  for (const collection of Object.keys(collections)) await writer.writeEof('syrftest', collection);
  await writer.end();
  return Buffer.concat(chunks);
}

async function* once(bytes: Buffer): AsyncGenerator<Buffer> {
  yield bytes;
}

describe('leak-proof anonymization', () => {
  it('no original PII value occurs in the anonymized gzip archive, in any letter case', async () => {
    const rules = await loadRules(join(repoRoot, 'rules', 'anonymization-rules.yaml'));
    const input = await archiveBytes(dataset());
    // Sanity: the PII is really in the input, so the assertion below can fail.
    expect(input.toString('latin1').toLowerCase()).toContain(PII.emails[0]!.toLowerCase());

    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    const writer = createGzipArchiveWriter(out);
    await writeEvents(anonymizeArchive(readArchive(once(input)), { rules, key: TEST_KEY }), writer);
    await writer.end();
    const output = gunzipSync(Buffer.concat(chunks));
    const haystack = output.toString('utf8').toLowerCase();

    const leaked = Object.values(PII)
      .flat()
      .filter((value) => haystack.includes(value.toLowerCase()));
    expect(leaked).toEqual([]);

    // And the output is still a usable archive with the kept collections.
    const collections = new Map<string, Document[]>();
    for await (const event of readArchive(once(output))) {
      if (event.type === 'segment') collections.set(event.collection, [...(collections.get(event.collection) ?? []), ...event.documents.map(decode)]);
    }
    expect([...collections.keys()].sort()).toEqual(['pmDataExportJob', 'pmInvestigator', 'pmProject']);
    const investigators = collections.get('pmInvestigator')!;
    expect(investigators).toHaveLength(3);
    expect(investigators.every((d) => /^user-[0-9a-f]{20}@anonymized\.syrf\.local$/.test(d.Email as string))).toBe(true);
    // Consistent across collections: Jane's address in pmInvestigator and pmProject maps to one pseudonym.
    expect(collections.get('pmProject')![0]!.ContactEmail).toBe(investigators[0]!.Email);
    expect(investigators[0]!._t).toBe('Investigator');
  });
});
