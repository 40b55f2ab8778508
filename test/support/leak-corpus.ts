/**
 * An adversarial leak corpus: SyRF-shaped collections with personal data
 * planted in every place an anonymizer has been seen to miss it (structural
 * edge cases, every BSON type, keys, metadata, rare fields, free text), from
 * a seeded generator so that every run plants different but reproducible
 * values. `planted` lists every original value; the leak scanner
 * (leak-scanner.ts) looks for each in every output.
 *
 * `ferretSafe` leaves out what FerretDB refuses to store (Decimal128,
 * dotted and `$` keys, duplicate keys, time-series buckets, code with scope,
 * DBPointer...): those are covered at the archive level.
 */
import { BSON, Binary, BSONRegExp, BSONSymbol, Code, DBRef, Decimal128, Double, Int32, Long, ObjectId, Timestamp, type Document } from 'bson';
import { PassThrough } from 'node:stream';
import { ArchiveWriter, buildCollectionMetadata } from '../../runtime/archive/index.js';
import { seededRandom } from './random.js';

export interface CorpusCollection {
  name: string;
  /** '' | 'view' | 'timeseries' */
  type: string;
  metadata: string;
  documents: Buffer[];
}

export interface LeakCorpus {
  seed: number;
  /** Every original personal value planted anywhere. */
  planted: string[];
  collections: CorpusCollection[];
}

export interface CorpusOptions {
  seed: number;
  /** Documents in the collection with one rare field (default 10,000). */
  rareOf?: number;
  /** Only what FerretDB stores (for e2e through the test server). */
  ferretSafe?: boolean;
}

interface Person {
  first: string;
  last: string;
  email: string;
  phone: string;
  orcid: string;
  auth: string;
}

export function leakCorpus(options: CorpusOptions): LeakCorpus {
  const random = seededRandom(options.seed);
  const letters = (n: number) => Array.from({ length: n }, () => String.fromCharCode(97 + Math.floor(random() * 26))).join('');
  const digits = (n: number) => Array.from({ length: n }, () => String(Math.floor(random() * 10))).join('');
  const cap = (s: string) => s[0]!.toUpperCase() + s.slice(1);
  const planted = new Set<string>();
  const plant = (value: string) => {
    planted.add(value);
    return value;
  };
  const person = (): Person => {
    const first = cap('zq' + letters(7));
    const last = cap('xv' + letters(8));
    return {
      first: plant(first),
      last: plant(last),
      email: plant(`${first}.${last}@${letters(6)}-uni.ac.uk`),
      phone: plant(`+44 131 ${digits(3)} ${digits(4)}`),
      orcid: plant(`0000-000${digits(1)}-${digits(4)}-${digits(3)}X`),
      auth: plant(`auth0|${letters(4)}${digits(20)}`),
    };
  };
  const uuid = () => new Binary(Buffer.from(digits(32).replace(/\d/g, (d) => 'abcdef0123'[Number(d)]!), 'hex'), 3);
  const ferret = options.ferretSafe === true;
  const people = Array.from({ length: 6 }, person);
  const [jane, bob, carol, dave, erin, fay] = people as [Person, Person, Person, Person, Person, Person];

  const collections: CorpusCollection[] = [];
  const add = (name: string, documents: (Document | Buffer)[], extra: { type?: string; options?: Document; indexes?: Document[] } = {}) => {
    collections.push({
      name,
      type: extra.type ?? '',
      metadata: buildCollectionMetadata({
        collectionName: name,
        ...(extra.type ? { type: extra.type } : {}),
        ...(extra.options ? { options: extra.options } : {}),
        indexes: [{ v: 2, key: { _id: 1 }, name: '_id_' }, ...(extra.indexes ?? [])],
      }),
      documents: documents.map((d) => (Buffer.isBuffer(d) ? d : Buffer.from(BSON.serialize(d)))),
    });
  };

  // The same person across five collections, in different letter cases.
  const investigators: (Document | Buffer)[] = people.map((p, i) => ({
    _id: uuid(),
    _t: 'Investigator',
    Email: i % 2 ? p.email.toUpperCase() : p.email,
    FirstName: p.first,
    LastName: p.last,
    Auth0Id: p.auth,
    PhoneNumber: p.phone,
    Orcid: p.orcid,
    LoginCount: new Int32(i),
    SchemaVersion: new Int32(3),
    // `keep` on a parent must not keep a child added later.
    Settings: { Theme: 'dark', BackupEmail: p.email.toLowerCase() },
    // A map keyed by emails and by names.
    // (FerretDB refuses dots in keys: there the email key is %-encoded, which is just as identifying.)
    Subscriptions: { [ferret ? p.email.replace(/\./g, '%2E') : p.email]: true, [`${p.first} ${p.last}`]: new Int32(1) },
    // Encoded emails.
    AvatarUrl: `https://cdn.example/avatar?u=${encodeURIComponent(p.email)}`,
    Token: Buffer.from(`{"sub":"${p.email}"}`).toString('base64'),
    CreatedBy: `${p.first} ${p.last}`,
  }));
  // Duplicate keys: {Email: <original>, Email: null} (a decoder keeps the last one).
  investigators.push(duplicateKeys({ _id: uuid(), _t: 'Investigator', Email: erin.email }, { Email: null }));
  if (ferret) investigators.pop();
  add('pmInvestigator', investigators, {
    indexes: [
      // PII in index names and partial filters.
      { v: 2, key: { Email: 1 }, name: `Email_${jane.email}`, unique: true, partialFilterExpression: { Email: { $ne: bob.email } } },
    ],
    // PII in a validator.
    options: { validator: { $or: [{ Email: { $exists: true } }, { Owner: carol.email }] } },
  });

  // Red-team #3: personal data in kept free text, disguised (the distinctive part of each is planted).
  const tok = () => plant('zk' + letters(8));
  const disguised = [
    `${tok()}@universität.de`,
    `${tok()}@uni.xn--p1ai`,
    `${tok()}＠uni.ac.uk`,
    `"${tok()} quoted"@uni.ac.uk`,
    `jane/${tok()}@uni.ac.uk`,
    `${tok()} at uni dot ac dot uk`,
    `${tok()} [at] uni [dot] ac [dot] uk`,
    `${tok()}(at)uni(dot)ac(dot)uk`,
    `${tok()}&#64;uni.ac.uk`,
    `${tok()}\\u0040uni.ac.uk`,
    `${tok()}=40uni.ac.uk`,
    `${tok()}@uni\u200b.ac.uk`,
    `bj\u00f6rn.${tok()}\u00f3@uni.is`,
    plant(`030 ${digits(8)}`),
    plant(`06-${digits(8)}`),
    plant(`0131\u2013${digits(3)}\u2013${digits(4)}`),
    plant(`000${digits(13)}`),
    `@${tok()}`,
    `https://www.ed.ac.uk/profile/${tok()}-doe`,
    `https://www.uni.edu/people/${tok()}`,
  ];
  const projects: Document[] = [
    {
      _id: uuid(),
      Name: 'Stroke models in rodents',
      ContactEmail: jane.email.toLowerCase(),
      Members: [{ Email: bob.email, Name: `${bob.first} ${bob.last}` }],
      Description: `Systematic review. Contact ${carol.email} or call ${carol.phone}. ORCID https://orcid.org/${carol.orcid}. ${disguised.join(' ; ')}`,
      ...(ferret ? {} : { 'Contact.Email': dave.email, 'Tags[]': [fay.first] }),
      Owner: ferret ? { Ref: 'pmInvestigator', Email: dave.email } : new DBRef('pmInvestigator', new ObjectId(), undefined, { Email: dave.email } as Document),
    },
  ];
  add('pmProject', projects);

  // A field present in 1 of N documents, kept free text, names in unusual fields.
  const rareOf = options.rareOf ?? 10_000;
  const rareAt = Math.floor(random() * rareOf);
  const studies: Document[] = [];
  for (let i = 0; i < rareOf; i++) {
    const doc: Document = { _id: new ObjectId(), Title: `Effect of drug ${i} on infarct volume`, Year: new Int32(1990 + (i % 30)) };
    if (i === rareAt) {
      doc.ReviewerEmail = erin.email;
      // Names in prose where the text introduces them (prose-names.ts); a bare name in prose is a documented residual risk.
      doc.Abstract = `We thank ${erin.email} (tel. ${erin.phone}) for help; samples courtesy of Dr. ${fay.first} ${fay.last}, contact ${fay.first} ${fay.last} <${fay.email}>.`;
      doc.Annotations = [{ Annotator: { Name: `${fay.first} ${fay.last}` }, ReviewerName: erin.last, Score: new Double(0.5) }];
      doc.Name = fay.last;
    }
    studies.push(doc);
  }
  add('pmStudy', studies);

  // Every BSON type carrying personal data.
  const oddTypes: Document = {
    _id: uuid(),
    FakeUuid: new Binary(Buffer.from(`${jane.email}`.padEnd(34, '!')).subarray(0, 34), 4),
    Blob: new Binary(Buffer.from(`note for ${bob.email}`), 0),
    Pattern: new BSONRegExp(escapeRegex(carol.email), 'i'),
    Script: new Code(`notify("${dave.email}")`),
    Sym: new BSONSymbol(erin.email),
    When: new Timestamp({ t: 1, i: 2 }),
    Big: Long.fromString('441316501234'),
    ...(ferret ? {} : { Money: Decimal128.fromString(digits(12)), ScopedScript: new Code('x()', { who: fay.email }) }),
  };
  add('pmDataExportJob', [oddTypes]);

  // A collection no rule names and a view whose pipeline holds an email.
  add('pmNewFeature', [{ _id: new ObjectId(), Who: jane.email }]);
  if (!ferret) {
    add('pmMembersView', [], { type: 'view', options: { viewOn: 'pmInvestigator', pipeline: [{ $match: { Email: bob.email } }] } });
    // Time-series buckets.
    add('system.buckets.metrics', [{ _id: new ObjectId(), control: { version: 1 }, meta: { user: carol.email }, data: { who: { '0': dave.email } } }]);
    add('metrics', [], { type: 'timeseries', options: { timeseries: { timeField: 't', metaField: 'meta' } } });
  }
  return { seed: options.seed, planted: [...planted], collections };
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** One document holding the elements of `a` then those of `b`: duplicate names survive. */
export function duplicateKeys(a: Document, b: Document): Buffer {
  const body = Buffer.concat([Buffer.from(BSON.serialize(a)).subarray(4, -1), Buffer.from(BSON.serialize(b)).subarray(4, -1)]);
  const out = Buffer.alloc(body.length + 5);
  out.writeInt32LE(out.length, 0);
  body.copy(out, 4);
  return out;
}

/** The corpus as an uncompressed mongodump archive. */
export async function corpusArchive(corpus: LeakCorpus, db = 'syrfcorpus'): Promise<Buffer> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  const writer = new ArchiveWriter(out);
  await writer.writePrelude(
    { concurrentCollections: 1, version: '0.1', serverVersion: '7.0.0', toolVersion: 'leak-corpus' },
    corpus.collections.map((c) => ({ db, collection: c.name, metadata: c.metadata, size: 0, type: c.type })),
  );
  for (const c of corpus.collections) {
    for (let i = 0; i < c.documents.length; i += 1000) await writer.writeSegment(db, c.name, c.documents.slice(i, i + 1000));
    await writer.writeEof(db, c.name);
  }
  await writer.end();
  return Buffer.concat(chunks);
}

/** Rules for the corpus that name everything and keep only what is safe, with `unnamed_fields: refuse`. */
export const STRICT_CORPUS_RULES = `version: 2
unnamed_fields: refuse
unnamed_collections: refuse
rules:
  pmInvestigator:
    fields:
      _id: { transform: keep, reason: CSUUID key }
      _t: { transform: keep, reason: C# type discriminator }
      Email: hash_email
      FirstName: sequential
      LastName: sequential_suffix
      Auth0Id: { transform: hash, prefix: "anon|" }
      PhoneNumber: mask
      Orcid: mask
      LoginCount: { transform: keep, reason: a number }
      SchemaVersion: { transform: keep, reason: schema version }
      Settings: { transform: keep, reason: the parent only }
      Settings.Theme: { transform: keep, reason: UI preference }
      Settings.BackupEmail: hash_email
      Subscriptions: { transform: mask, keys: hash }
      AvatarUrl: mask
      Token: mask
      CreatedBy: sequential
  pmProject:
    fields:
      _id: { transform: keep, reason: key }
      Name: { transform: keep, reason: project title }
      ContactEmail: hash_email
      Members[].Email: hash_email
      Members[].Name: sequential
      Description: { transform: keep, reason: research description, scrub: true }
      'Contact\\.Email': hash_email
      'Tags\\[\\]': mask
      Owner: { transform: mask, keys: hash }   # a reference document: its keys are named by no rule
  pmStudy:
    default: { transform: mask }
    fields:
      Title: { transform: keep, reason: bibliographic }
      Year: { transform: keep, reason: bibliographic }
      Abstract: { transform: keep, reason: bibliographic, scrub: true }
  pmDataExportJob:
    default: { transform: mask }
  system.buckets.metrics:
    default: { transform: mask }
exclusions: [pmNewFeature, pmMembersView, metrics]
`;
