import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Binary, ObjectId, type Document } from 'bson';
import { buildCollectionMetadata, parseCollectionMetadata } from '../../../runtime/archive/metadata.js';
import { ExitCode, UserError } from '../../../runtime/errors.js';
import { describe, expect, it } from 'vitest';
import type { ArchiveEvent } from '../../../runtime/archive/types.js';
import { anonymizeArchive, type AnonymizeOptions } from '../../../runtime/anonymize/filter.js';
import { collectionOrder } from '../../../runtime/subset/plan.js';
import { DB, TEST_KEY, bson, collect, documentsOf, eof, fromArray, namespace, prelude, rules, segment } from './helpers.js';

const SUBSET_RULES = `
rules:
  pmProject:
    fields: { ContactEmail: hash_email }
size_limits:
  pmProject: { max_documents: 3 }
  pmStudy:
    follows: { collection: pmProject, field: ProjectId }
  pmAnnotation:
    max_documents: 4
    follows: { collection: pmStudy, field: StudyId }
`;

/** C#-legacy UUIDs (BSON binary subtype 3), as SyRF stores ids. */
function csuuid(n: number): Binary {
  const bytes = Buffer.alloc(16);
  bytes.writeUInt32LE(n, 0);
  bytes.writeUInt32BE(0xdeadbeef, 12);
  return new Binary(bytes, Binary.SUBTYPE_UUID_OLD);
}

function run(events: ArchiveEvent[], options: Partial<AnonymizeOptions> & { rulesYaml: string }) {
  const { rulesYaml, ...rest } = options;
  return collect(anonymizeArchive(fromArray(events), { rules: rules(rulesYaml), key: TEST_KEY, ...rest }));
}

const projects = Array.from({ length: 10 }, (_, i) => ({ _id: csuuid(i), Name: `P${i}`, ContactEmail: `owner${i}@example.org` }));
const studies = Array.from({ length: 30 }, (_, i) => ({ _id: csuuid(100 + i), ProjectId: csuuid(i % 10), Title: `S${i}` }));
const annotations = Array.from({ length: 60 }, (_, i) => ({ _id: csuuid(1000 + i), StudyId: csuuid(100 + (i % 30)) }));

const idKey = (doc: Document) => Buffer.from((doc._id as Binary).buffer).toString('hex');
const refKey = (value: unknown) => Buffer.from((value as Binary).buffer).toString('hex');

describe('anonymizeArchive pass-through and dropping', () => {
  it('without a key (an anonymized snapshot), passes collections through as the very same Buffer objects', async () => {
    const input = segment('pmStudy', [{ a: 1 }, { b: 'x' }]);
    const out = await run([prelude('pmStudy'), input, eof('pmStudy')], { rulesYaml: 'rules: { pmInvestigator: { fields: { Email: hash_email } } }', key: null });
    const seg = out.find((e) => e.type === 'segment')!;
    expect(seg).toBe(input);
  });

  it('with a key, refuses a collection no rule names, listing every one (it used to pass through unchanged)', async () => {
    const events = [prelude('pmStudy', 'pmNew', 'pmInvestigator'), segment('pmStudy', [{ Email: 'jane@uni.ac.uk' }]), eof('pmStudy'), eof('pmNew'), eof('pmInvestigator')];
    const error = await run(events, { rulesYaml: 'rules: { pmInvestigator: { fields: { Email: hash_email } } }' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).exitCode).toBe(ExitCode.refused);
    // Listed by number: a collection name no rule contains can be data (the check's --show-unnamed-names prints them).
    expect((error as UserError).message).toContain('syrftest.<unnamed collection #1>, syrftest.<unnamed collection #2>');
    const dropped = await run(events, { rulesYaml: 'version: 2\nunnamed_collections: drop\nrules: { pmInvestigator: { fields: { Email: hash_email } } }' });
    expect(dropped[0]!.type === 'prelude' && dropped[0]!.namespaces.map((n) => n.collection)).toEqual(['pmInvestigator']);
    expect(documentsOf(dropped, 'pmStudy')).toEqual([]);
  });

  it('refuses views and time-series collections unless a rule names them (leak 5); bucket data goes through its rules', async () => {
    const bucket = { _id: new ObjectId(), meta: { user: 'jane@uni.ac.uk' }, data: { v: { '0': 'Jane Doe' } } };
    const base = { ...(prelude() as Extract<ArchiveEvent, { type: 'prelude' }>), namespaces: [namespace('metrics', 'timeseries'), namespace('byUser', 'view')] };
    const events: ArchiveEvent[] = [base, { type: 'segment', db: DB, collection: 'system.buckets.metrics', documents: [bson(bucket)] }, eof('system.buckets.metrics'), eof('metrics'), eof('byUser')];
    const error = await run(events, { rulesYaml: 'rules: { pmProject: {} }' }).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/syrftest\.<unnamed collection #1> \(timeseries\), syrftest\.<unnamed collection #2> \(view\)/);
    // check: false: the coverage check's naming of time-series collections is tested with the check.
    const out = await run(events, { rulesYaml: 'rules: { system.buckets.metrics: { fields: { _id: { transform: keep, reason: bucket id } } }, byUser: {} }', check: false });
    const docs = out.flatMap((e) => (e.type === 'segment' ? e.documents : []));
    expect(docs).toHaveLength(1);
    expect(docs[0]!.toString('latin1')).not.toMatch(/jane|Jane Doe/i);
  });

  it('drops excluded, system.* and unrequested collections from prelude and body', async () => {
    const events = [
      prelude('pmAuditLog', 'system.sessions', 'pmProject', 'pmStudy'),
      segment('pmAuditLog', [{ who: 'jane@example.org' }]),
      segment('system.sessions', [{ s: 1 }]),
      segment('pmProject', [{ n: 1 }]),
      segment('pmStudy', [{ n: 2 }]),
      eof('pmAuditLog'),
      eof('system.sessions'),
      eof('pmProject'),
      eof('pmStudy'),
    ];
    const out = await run(events, { rulesYaml: 'rules: { pmProject: {} }\nexclusions: [pmAuditLog]', collections: ['pmProject', 'pmAuditLog'] });
    const first = out[0]!;
    expect(first.type === 'prelude' && first.namespaces.map((n) => n.collection)).toEqual(['pmProject']);
    expect(new Set(out.filter((e) => e.type !== 'prelude').map((e) => (e as { collection: string }).collection))).toEqual(new Set(['pmProject']));
  });

  it('anonymizes named collections, masking what no rule names', async () => {
    const out = await run([prelude('pmProject'), segment('pmProject', projects.slice(0, 2)), eof('pmProject')], {
      rulesYaml: 'rules: { pmProject: { fields: { ContactEmail: hash_email, _id: { transform: keep, reason: project id } } } }',
    });
    const docs = documentsOf(out, 'pmProject');
    expect(docs.map((d) => d.ContactEmail)).toEqual([expect.stringMatching(/@anonymized\.syrf\.local$/), expect.stringMatching(/@anonymized\.syrf\.local$/)]);
    // Name is not named: masked (it used to pass as 'P0', 'P1').
    expect(docs.map((d) => d.Name)).toEqual([expect.stringMatching(/^masked-/), expect.stringMatching(/^masked-/)]);
  });

  it('scrubs collection metadata: index names, partial filters, validators and view pipelines carry no value (leak 6)', async () => {
    const secret = 'jane.doe@uni.ac.uk';
    const metadata = buildCollectionMetadata({
      collectionName: 'pmInvestigator',
      options: { validator: { Email: { $ne: secret } }, validationLevel: 'strict', comment: secret, storageEngine: { wiredTiger: { configString: secret } }, collation: { locale: 'janelocale' } },
      uuid: '0123456789abcdef0123456789abcdef',
      indexes: [
        { v: 2, key: { _id: 1 }, name: '_id_' },
        { v: 2, key: { Email: 1 }, name: `by ${secret}`, unique: true, partialFilterExpression: { Email: { $eq: secret }, Active: { $exists: true } } },
        { v: 2, key: { [`Prefs.${secret}`]: 1 }, name: 'prefs' },
        // Red team #6: option keys nobody vetted, and paths the rules do not name.
        { v: 2, key: { Jane_Keyfield: 1 }, name: 'k' },
        { v: 2, key: { Email: -1 }, name: 'c', comment: secret, storageEngine: { wiredTiger: { configString: secret } }, collation: { locale: 'janelocale' } },
        { v: 2, key: { Email: 1, Active: 1 }, name: 'p', partialFilterExpression: { 'Subs.janepfe': { $exists: true } } },
      ],
    });
    const view = buildCollectionMetadata({ collectionName: 'admins', type: 'view', options: { viewOn: 'pmInvestigator', pipeline: [{ $match: { Email: secret } }, { $project: { Email: 1 } }] }, indexes: [] });
    const events: ArchiveEvent[] = [
      { ...prelude(), header: { concurrentCollections: 4, version: '0.1', serverVersion: '7.0.12-janehdr', toolVersion: 'janetool' }, namespaces: [{ ...namespace('pmInvestigator'), metadata }, { ...namespace('admins', 'view'), metadata: view }] } as ArchiveEvent,
      eof('pmInvestigator'),
      eof('admins'),
    ];
    const out = await run(events, { rulesYaml: 'rules: { pmInvestigator: { fields: { Email: hash_email, Active: { transform: keep, reason: a flag } } }, admins: {} }' });
    const first = out[0]!;
    const text = first.type === 'prelude' ? first.namespaces.map((n) => n.metadata).join('\n') : '';
    expect(text).not.toMatch(/jane|Jane_Keyfield|0123456789abcdef0123456789abcdef/i);
    expect(first.type === 'prelude' && first.header).toMatchObject({ serverVersion: '7.0.12', toolVersion: 'syrf-db' });
    const scrubbed = first.type === 'prelude' ? parseCollectionMetadata(first.namespaces[0]!.metadata) : null;
    // Indexes on paths the rules do not name (Prefs.<email>, Jane_Keyfield, a partial filter on Subs...) are left out.
    expect(scrubbed!.indexes.map((i) => i.name)).toEqual(['_id_', 'Email_1', 'Email_-1']);
    expect(Object.keys(scrubbed!.indexes[2]!).sort()).toEqual(['key', 'name', 'v']);
    expect(scrubbed!.indexes[1]!.partialFilterExpression).toEqual({ Email: { $eq: expect.stringMatching(/@anonymized\.syrf\.local$/) }, Active: { $exists: true } });
    expect(scrubbed!.options).toEqual({});
  });
});

describe('size limits and referential subsetting', () => {
  const ordered: ArchiveEvent[] = [
    prelude('pmProject', 'pmStudy', 'pmAnnotation'),
    segment('pmProject', projects),
    eof('pmProject'),
    segment('pmStudy', studies),
    eof('pmStudy'),
    segment('pmAnnotation', annotations),
    eof('pmAnnotation'),
  ];
  // Children before and between their parents' segments, as a concurrent mongodump may write them.
  const interleaved: ArchiveEvent[] = [
    prelude('pmProject', 'pmStudy', 'pmAnnotation'),
    segment('pmAnnotation', annotations.slice(30)),
    segment('pmStudy', studies.slice(0, 15)),
    segment('pmProject', [...projects].reverse().slice(0, 4)),
    segment('pmAnnotation', annotations.slice(0, 30)),
    eof('pmAnnotation'),
    segment('pmStudy', studies.slice(15)),
    eof('pmStudy'),
    segment('pmProject', [...projects].reverse().slice(4)),
    eof('pmProject'),
  ];

  it('keeps N parents and only the children of kept parents, transitively, with binary UUID references', async () => {
    const out = await run(ordered, { rulesYaml: SUBSET_RULES });
    const keptProjects = documentsOf(out, 'pmProject');
    expect(keptProjects).toHaveLength(3);
    expect(keptProjects[0]!.ContactEmail).toMatch(/@anonymized\.syrf\.local$/);
    const projectIds = new Set(keptProjects.map(idKey));
    const keptStudies = documentsOf(out, 'pmStudy');
    expect(keptStudies).toHaveLength(9); // 3 studies per project
    expect(keptStudies.every((s) => projectIds.has(refKey(s.ProjectId)))).toBe(true);
    const studyIds = new Set(keptStudies.map(idKey));
    const keptAnnotations = documentsOf(out, 'pmAnnotation');
    expect(keptAnnotations).toHaveLength(4); // 18 belong to kept studies, cut to 4
    expect(keptAnnotations.every((a) => studyIds.has(refKey(a.StudyId)))).toBe(true);
    for (const collection of ['pmProject', 'pmStudy', 'pmAnnotation']) {
      expect(out.filter((e) => e.type === 'eof' && e.collection === collection)).toHaveLength(1);
    }
  });

  it('chooses the same documents whatever the order and interleaving of the input', async () => {
    const a = await run(ordered, { rulesYaml: SUBSET_RULES });
    const b = await run(interleaved, { rulesYaml: SUBSET_RULES });
    for (const collection of ['pmProject', 'pmStudy', 'pmAnnotation']) {
      expect(new Set(documentsOf(b, collection).map(idKey))).toEqual(new Set(documentsOf(a, collection).map(idKey)));
    }
    // Each collection's EOF comes after all its segments.
    for (const collection of ['pmProject', 'pmStudy', 'pmAnnotation']) {
      const eofAt = b.findIndex((e) => e.type === 'eof' && e.collection === collection);
      const lastSegment = b.map((e, i) => (e.type === 'segment' && e.collection === collection ? i : -1)).reduce((x, y) => Math.max(x, y));
      expect(eofAt).toBeGreaterThan(lastSegment);
    }
  });

  it('copies everything with applySizeLimits: false', async () => {
    const out = await run(interleaved, { rulesYaml: SUBSET_RULES, applySizeLimits: false });
    expect(documentsOf(out, 'pmProject')).toHaveLength(10);
    expect(documentsOf(out, 'pmStudy')).toHaveLength(30);
    expect(documentsOf(out, 'pmAnnotation')).toHaveLength(60);
  });

  it('does not filter followers of a parent that was not cut', async () => {
    const out = await run(ordered, { rulesYaml: SUBSET_RULES.replace('max_documents: 3', 'max_documents: 50') });
    expect(documentsOf(out, 'pmProject')).toHaveLength(10);
    expect(documentsOf(out, 'pmStudy')).toHaveLength(30);
    expect(documentsOf(out, 'pmAnnotation')).toHaveLength(4);
  });

  it('does not filter a follower whose parent is not restored', async () => {
    const out = await run(ordered, { rulesYaml: SUBSET_RULES, collections: ['pmStudy'] });
    expect(documentsOf(out, 'pmStudy')).toHaveLength(30);
  });

  it('hands on kept documents without the spooled neighbours they were read with', async () => {
    // A sparse subset must not pin the spool's read chunks in the writer's queue.
    const bigStudies = Array.from({ length: 3000 }, (_, i) => ({ _id: csuuid(100 + i), ProjectId: csuuid(i % 10), Abstract: 'a'.repeat(1000 + (i % 50)) }));
    const out = await run([prelude('pmProject', 'pmStudy'), segment('pmProject', projects), eof('pmProject'), segment('pmStudy', bigStudies), eof('pmStudy')], {
      rulesYaml: SUBSET_RULES.replace('max_documents: 3', 'max_documents: 1'),
    });
    const studySegments = out.filter((e) => e.type === 'segment' && e.collection === 'pmStudy');
    expect(documentsOf(out, 'pmStudy')).toHaveLength(300);
    for (const event of studySegments) {
      if (event.type !== 'segment') continue;
      const keptBytes = event.documents.reduce((sum, d) => sum + d.length, 0);
      const backing = new Set(event.documents.map((d) => d.buffer));
      const backingBytes = [...backing].reduce((sum, b) => sum + b.byteLength, 0);
      expect(backingBytes).toBeLessThanOrEqual(Math.max(8192, 2 * keptBytes));
    }
  });

  it('leaves no temp files behind, also when the consumer stops early', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'syrf-filter-test-'));
    await run(interleaved, { rulesYaml: SUBSET_RULES, tempDir: dir });
    expect(readdirSync(dir)).toEqual([]);
    const events = anonymizeArchive(fromArray(interleaved), { rules: rules(SUBSET_RULES), key: TEST_KEY, tempDir: dir });
    for await (const event of events) {
      if (event.type === 'segment') break;
    }
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('collectionOrder', () => {
  it('puts parents before the collections that follow them', () => {
    const order = collectionOrder(rules(SUBSET_RULES), ['pmAnnotation', 'pmInvestigator', 'pmStudy', 'pmProject']);
    expect(order.indexOf('pmProject')).toBeLessThan(order.indexOf('pmStudy'));
    expect(order.indexOf('pmStudy')).toBeLessThan(order.indexOf('pmAnnotation'));
    expect(order).toHaveLength(4);
  });
});
