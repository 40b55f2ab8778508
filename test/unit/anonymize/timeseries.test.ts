import { PassThrough } from 'node:stream';
import { BSON, ObjectId, type Document } from 'bson';
import { describe, expect, it } from 'vitest';
import { createGzipArchiveWriter, openArchive, writeEvents } from '../../../runtime/archive/index.js';
import { buildCollectionMetadata } from '../../../runtime/archive/metadata.js';
import { checkCoverage } from '../../../runtime/anonymize/coverage.js';
import { DECODE_OPTIONS, createAnonymizer } from '../../../runtime/anonymize/engine.js';
import { anonymizeArchive } from '../../../runtime/anonymize/filter.js';
import { gunzipSync } from 'node:zlib';
import { TEST_KEY, bson, rules } from './helpers.js';

const RULES = `
rules:
  readings:
    fields:
      t: { transform: keep, reason: measurement time }
      Who: redact
      Email: hash_email
      reading: { transform: keep, reason: the measurement }
      reading.value: { transform: keep, reason: the measurement }
`;

const t0 = new Date('2026-01-01T00:00:00Z');
const t1 = new Date('2026-01-01T00:01:00Z');
const bucket = {
  _id: new ObjectId(),
  control: {
    version: 1,
    min: { t: t0, Who: 'Alice Zqmin', Email: 'zqmin@uni.ac.uk', reading: { value: 5, note: 'Zqjane Zqctlnote' } },
    max: { t: t1, Who: 'Bob Zqmax', Email: 'zqmax@uni.ac.uk', reading: { value: 7, note: 'Zqjane Zqctlnote2' } },
  },
  meta: { Who: 'Zqmeta Person' },
  data: {
    t: { '0': t0, '1': t1 },
    Who: { '0': 'Alice Zqdata', '1': 'Bob Zqdata' },
    Email: { '0': 'zqdata0@uni.ac.uk', '1': 'zqdata1@uni.ac.uk' },
    reading: { '0': { value: 5, note: 'Zqjane Zqtsdata' }, '1': { value: 7 } },
    Extra: { '0': 'zqextra@uni.ac.uk', '3': 'Zqextra Two' },
  },
};
const PLANTED = ['zqmin', 'zqmax', 'zqmeta', 'zqdata', 'zqctlnote', 'zqtsdata', 'zqextra'];

async function archiveOf(events: AsyncIterable<Parameters<typeof writeEvents>[0] extends AsyncIterable<infer E> ? E : never>): Promise<Buffer> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  const writer = createGzipArchiveWriter(out);
  await writeEvents(events, writer);
  await writer.end();
  return Buffer.concat(chunks);
}

async function* inputEvents() {
  const metadata = buildCollectionMetadata({ collectionName: 'readings', type: 'timeseries', options: { timeseries: { timeField: 't', metaField: 'meta', granularity: 'seconds' } }, indexes: [] });
  yield { type: 'prelude' as const, header: { concurrentCollections: 4, version: '0.1', serverVersion: '7.0.12', toolVersion: 'test' }, namespaces: [
      { db: 'syrf', collection: 'readings', metadata, size: 0, type: 'timeseries' },
      { db: 'syrf', collection: 'system.buckets.readings', metadata: buildCollectionMetadata({ collectionName: 'system.buckets.readings', indexes: [] }), size: 0, type: 'collection' },
    ] };
  yield { type: 'segment' as const, db: 'syrf', collection: 'system.buckets.readings', documents: [bson(bucket)] };
  yield { type: 'eof' as const, db: 'syrf', collection: 'system.buckets.readings', crc: 0n };
  yield { type: 'eof' as const, db: 'syrf', collection: 'readings', crc: 0n };
}

async function buckets(archive: Buffer): Promise<Document[]> {
  const out: Document[] = [];
  async function* once() {
    yield archive;
  }
  for await (const event of openArchive(once())) if (event.type === 'segment' && event.collection === 'system.buckets.readings') out.push(...event.documents.map((d) => BSON.deserialize(d, DECODE_OPTIONS)));
  return out;
}

describe('time-series buckets through the anonymizing archive filter', () => {
  it('each value of a bucket column is transformed as a value of its field; control.min/max and meta too; the bucket format stays', async () => {
    const input = await archiveOf(inputEvents());
    const anonymized = await archiveOf(anonymizeArchive(openArchive((async function* () { yield input; })()), { rules: rules(RULES), key: TEST_KEY }));
    const raw = gunzipSync(anonymized).toString('latin1').toLowerCase();
    expect(PLANTED.filter((p) => raw.includes(p))).toEqual([]);
    const [out] = await buckets(anonymized);
    // A whole-value transform replaces each value, not the column (it used to turn data.Who into one string).
    expect(out!.data.Who).toEqual({ '0': '[redacted]', '1': '[redacted]' });
    const pseudonym = (email: string) => {
      const doc = { Email: email };
      createAnonymizer(rules(RULES), TEST_KEY).forCollection('readings')!.apply(doc);
      return doc.Email;
    };
    expect(out!.data.Email).toEqual({ '0': pseudonym('zqdata0@uni.ac.uk'), '1': pseudonym('zqdata1@uni.ac.uk') });
    // keep reading keeps each value, and its children are matched like reading's (keep_subtree it is not).
    expect(Number(out!.data.reading['0'].value)).toBe(5);
    expect(Object.values(out!.data.reading['0']).some((v) => String(v).startsWith('masked-'))).toBe(true);
    expect(out!.data.t).toEqual({ '0': t0, '1': t1 });
    // Row keys stay (a measurement without a value has none), values of an unnamed column are masked.
    expect(Object.keys(out!.data.Extra)).toEqual(['0', '3']);
    expect(Object.values(out!.data.Extra).every((v) => String(v).startsWith('masked-'))).toBe(true);
    expect(out!.control.min.Who).toBe('[redacted]');
    expect(out!.control.max.Email).toBe(pseudonym('zqmax@uni.ac.uk'));
    expect(Number(out!.control.version)).toBe(1);
    expect(out!.meta.Who).toBe('[redacted]');
  });

  it('the coverage check matches bucket paths as the engine maps them', () => {
    const refuse = rules(`version: 2\nunnamed_fields: refuse\n${RULES}`);
    const report = checkCoverage(refuse, [{ collection: 'readings', type: 'timeseries', documents: [] }, { collection: 'system.buckets.readings', documents: [bson(bucket)] }]);
    const refused = report.findings.filter((f) => f.problem === 'refused-field').map((f) => f.path);
    // Only the unnamed column (Extra) and reading.note (keep is not keep_subtree) are refused, in data and control;
    // data.Who, control.min.Email, meta.Who... are covered, and every rule matched (it used to match bucket paths raw).
    expect(refused).toHaveLength(5);
    expect(refused.filter((path) => /(^|\.)(Who|Email|t|value)$/.test(path))).toEqual([]);
    expect(report.findings.filter((f) => f.problem === 'unmatched-rule')).toEqual([]);
  });
});
