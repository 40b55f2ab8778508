/**
 * A deterministic, streaming SyRF-like dataset for the benchmark. Unlike
 * test/support/dataset.ts it never holds the big collections in memory:
 * each collection is a generator that can be replayed (same seed, same
 * documents), so a 4× archive costs no more memory than a 1× one.
 *
 * Skew like a real app: studies fall on projects with Zipf weights (a few
 * huge projects, many small ones), and study documents have a long tail
 * (most carry a handful of annotations, a few carry hundreds).
 */
import { Binary, Int32, type Document } from 'bson';
import { DOMAINS, FIRST, LAST } from '../test/support/dataset.js';
import { csuuid, objectIdOf, pick, seededRandom, type Random } from '../test/support/random.js';

export interface BenchCollection {
  name: string;
  count: number;
  indexes: Array<{ key: Document; name: string; unique?: boolean }>;
  /** A fresh iterator over the same documents every time. */
  documents(): Iterator<Document> & Iterable<Document>;
}

const WORDS = (
  'stroke ischaemia rodent model infarct volume neuroprotection outcome blinded randomised allocation sham hypothermia dose ' +
  'treatment cohort bias reporting systematic review meta analysis effect size mice rats behavioural motor score lesion ' +
  'middle cerebral artery occlusion reperfusion transient permanent vehicle control intraperitoneal administration'
).split(' ');
const EPOCH = Date.UTC(2018, 0, 1);

function sentence(random: Random, words: number): string {
  const out = new Array<string>(words);
  for (let i = 0; i < words; i++) out[i] = pick(random, WORDS);
  return out.join(' ');
}

function date(random: Random): Date {
  return new Date(EPOCH + Math.floor(random() * 2e11));
}

interface Investigator {
  _id: Binary;
  Email: string;
  FirstName: string;
  LastName: string;
}

interface Project {
  _id: Binary;
  OwnerId: Binary;
  ContactEmail: string;
  Members: Array<{ InvestigatorId: Binary; Email: string; Role: string }>;
}

/** Small collections the big ones refer to: built once, a few thousand entries even at large scales. */
function people(seed: number, studies: number): { investigators: Array<Investigator & Document>; projects: Array<Project & Document> } {
  const random = seededRandom(seed);
  const investigatorCount = Math.max(5, Math.ceil(studies / 20));
  const projectCount = Math.max(3, Math.ceil(studies / 50));
  const investigators = Array.from({ length: investigatorCount }, (_, i) => {
    const first = pick(random, FIRST);
    const last = pick(random, LAST);
    const email = `${first}.${last}${i}@${pick(random, DOMAINS)}`.toLowerCase();
    return {
      _id: csuuid(random),
      Email: i % 7 === 0 ? email.toUpperCase() : email,
      FirstName: first,
      LastName: last,
      Auth0Id: `auth0|${Math.floor(random() * 1e12).toString(16)}${i}`,
      Affiliation: `${pick(random, ['University', 'Institute', 'Hospital'])} of ${pick(random, ['Edinburgh', 'London', 'Berlin', 'Stockholm'])}`,
      Phone: `+44 131 ${String(1000000 + i).slice(1)}`,
      CreatedAt: date(random),
      Preferences: { Theme: pick(random, ['light', 'dark']), Notifications: random() < 0.5 },
      SchemaVersion: new Int32(3),
    };
  });
  const projects = Array.from({ length: projectCount }, (_, i) => {
    const owner = investigators[i % investigators.length]!;
    // Big projects have big teams: member count follows the same skew as the studies.
    const memberCount = 1 + Math.floor(random() * 5) + (i < 3 ? 30 : 0);
    return {
      _id: csuuid(random),
      Name: `Project ${i}: ${sentence(random, 4)}`,
      Description: sentence(random, 40 + Math.floor(random() * 200)),
      ContactEmail: owner.Email,
      OwnerId: owner._id,
      Members: Array.from({ length: memberCount }, (_, m) => {
        const member = investigators[(i + m * 3) % investigators.length]!;
        return { InvestigatorId: member._id, Email: member.Email, Role: m === 0 ? 'Owner' : 'Reviewer' };
      }),
      Keywords: Array.from({ length: 3 }, () => pick(random, WORDS)),
      CreatedAt: date(random),
      IsPublic: random() < 0.3,
      SchemaVersion: new Int32(5),
    };
  });
  return { investigators, projects };
}

/** Cumulative Zipf weights, so a study's project is one binary search away. */
function zipfPicker(count: number): (random: Random) => number {
  const cumulative = new Float64Array(count);
  let total = 0;
  for (let k = 0; k < count; k++) {
    total += 1 / (k + 1);
    cumulative[k] = total;
  }
  return (random) => {
    const target = random() * total;
    let lo = 0;
    let hi = count - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cumulative[mid]! < target) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

function* studies(seed: number, count: number, projects: Project[]): Generator<Document> {
  const random = seededRandom(seed);
  const projectIndex = zipfPicker(projects.length);
  for (let i = 0; i < count; i++) {
    const project = projects[projectIndex(random)]!;
    // Long tail: 2% of studies are heavily annotated (dual screening, many questions).
    const annotations = random() < 0.02 ? 40 + Math.floor(random() * 160) : Math.floor(random() * 6);
    yield {
      _id: csuuid(random),
      ProjectId: project._id,
      Title: sentence(random, 8 + Math.floor(random() * 10)),
      Abstract: sentence(random, 100 + Math.floor(random() * 250)),
      Authors: Array.from({ length: 1 + Math.floor(random() * 6) }, () => `${pick(random, LAST)} ${pick(random, FIRST)[0]}`),
      Year: new Int32(1990 + Math.floor(random() * 36)),
      Doi: `10.${1000 + (i % 9000)}/syrf.${i}`,
      Annotations: Array.from({ length: annotations }, (_, a) => ({
        QuestionId: objectIdOf(a + 1),
        AnnotatorId: project.Members[a % project.Members.length]!.InvestigatorId,
        Answer: pick(random, ['Yes', 'No', 'Unclear', String(Math.floor(random() * 100))]),
        Notes: random() < 0.3 ? sentence(random, 12) : null,
        CreatedAt: date(random),
      })),
      Screening: { Included: random() < 0.6, Score: Math.round(random() * 1000) / 10 },
      CreatedAt: date(random),
      SchemaVersion: new Int32(7),
    };
  }
}

/**
 * The collections at a scale of `studies` study documents (about 2.5 KB
 * each on average); every other collection scales with it.
 */
export function benchDataset(options: { studies: number; seed?: number }): BenchCollection[] {
  const seed = options.seed ?? 20260109;
  const { investigators, projects } = people(seed, options.studies);
  const auditCount = Math.max(10, Math.ceil(options.studies / 4));
  return [
    { name: 'pmInvestigator', count: investigators.length, indexes: [{ key: { Email: 1 }, name: 'Email_1', unique: true }, { key: { Auth0Id: 1 }, name: 'Auth0Id_1', unique: true }], documents: () => investigators.values() },
    { name: 'pmProject', count: projects.length, indexes: [{ key: { OwnerId: 1 }, name: 'OwnerId_1' }], documents: () => projects.values() },
    {
      name: 'pmStudy',
      count: options.studies,
      indexes: [
        { key: { ProjectId: 1 }, name: 'ProjectId_1' },
        { key: { ProjectId: 1, Year: -1 }, name: 'ProjectId_1_Year_-1' },
      ],
      documents: () => studies(seed + 1, options.studies, projects),
    },
    {
      name: 'pmSystematicSearch',
      count: projects.length,
      indexes: [{ key: { ProjectId: 1 }, name: 'ProjectId_1' }],
      documents: function* () {
        const random = seededRandom(seed + 2);
        for (let i = 0; i < projects.length; i++) {
          yield { _id: objectIdOf(i), ProjectId: projects[i]!._id, Name: `Search ${i}`, Query: `(${pick(random, WORDS)} OR ${pick(random, WORDS)}) AND ${pick(random, WORDS)}`, RunAt: date(random) };
        }
      },
    },
    {
      name: 'pmAuditLog',
      count: auditCount,
      indexes: [],
      documents: function* () {
        const random = seededRandom(seed + 3);
        for (let i = 0; i < auditCount; i++) {
          const who = investigators[i % investigators.length]!;
          yield { _id: objectIdOf(1_000_000 + i), UserEmail: who.Email, Action: pick(random, ['login', 'export', 'delete']), At: new Date(EPOCH + i * 1000), Ip: `10.0.${i % 255}.${(i * 7) % 255}` };
        }
      },
    },
    {
      name: 'asFileListing',
      count: projects.length,
      indexes: [],
      documents: function* () {
        for (let i = 0; i < projects.length; i++) {
          yield { _id: objectIdOf(2_000_000 + i), ProjectId: projects[i]!._id, Path: `/uploads/${i}/references.ris`, UploadedBy: investigators[i % investigators.length]!.Email };
        }
      },
    },
  ];
}

export function totalDocuments(collections: readonly BenchCollection[]): number {
  return collections.reduce((sum, c) => sum + c.count, 0);
}
