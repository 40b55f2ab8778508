/**
 * A deterministic, SyRF-shaped synthetic dataset: investigators with PII,
 * projects with members, studies with nested annotations and long text,
 * plus the collections the rules exclude. Sizes are skewed like a real app
 * (a few huge projects, many small ones). Used by e2e tests, the demo and
 * the benchmark. Nothing here stays within FerretDB's limits by accident:
 * no nested arrays, no Decimal128, no dotted keys.
 */
import { ObjectId, type Document } from 'bson';
import type { Db } from 'mongodb';
import { csuuid, objectIdOf, pick, seededRandom } from './random.js';

export interface DatasetOptions {
  /** Number of studies; every other collection scales with it. */
  studies: number;
  seed?: number;
}

export interface DatasetSummary {
  counts: Record<string, number>;
  /** Every PII string the dataset contains, for leak checks. */
  pii: string[];
}

export const FIRST = ['Alice', 'Bruno', 'Chen', 'Dara', 'Emeka', 'Fatima', 'Gustav', 'Hana', 'Ines', 'Jonas', 'Kemal', 'Lucia', 'Mirela', 'Nadia', 'Oskar', 'Priya'];
export const LAST = ['Anderson', 'Baptiste', 'Carvalho', 'Dubois', 'Eriksen', 'Fischer', 'Gallagher', 'Hoffmann', 'Ivanova', 'Jansen', 'Kowalski', 'Lindqvist', 'Moreau', 'Nakamura', 'Okafor', 'Petrov'];
export const DOMAINS = ['ed.ac.uk', 'ucl.ac.uk', 'charite.de', 'karolinska.se', 'uni-heidelberg.de'];
const WORDS = 'stroke ischaemia rodent model infarct volume neuroprotection outcome blinded randomised allocation sham hypothermia dose treatment cohort bias reporting systematic review meta analysis effect size'.split(' ');

function sentence(random: () => number, words: number): string {
  return Array.from({ length: words }, () => pick(random, WORDS)).join(' ');
}

export interface Dataset {
  collections: Record<string, Document[]>;
  pii: string[];
}

/** Builds the whole dataset in memory; fine for the test and demo scales (up to ~100k documents). */
export function buildDataset(options: DatasetOptions): Dataset {
  const random = seededRandom(options.seed ?? 20260109);
  const investigatorCount = Math.max(5, Math.ceil(options.studies / 20));
  const projectCount = Math.max(3, Math.ceil(options.studies / 50));
  const pii = new Set<string>();
  const epoch = Date.UTC(2018, 0, 1);

  const investigators = Array.from({ length: investigatorCount }, (_, i) => {
    const first = pick(random, FIRST);
    const last = pick(random, LAST);
    const email = `${first}.${last}${i}@${pick(random, DOMAINS)}`.toLowerCase();
    const auth0 = `auth0|${Math.floor(random() * 1e12).toString(16)}${i}`;
    [email, auth0, `${first} ${last}`].forEach((v) => pii.add(v));
    return {
      _id: csuuid(random),
      Email: i % 7 === 0 ? email.toUpperCase() : email,
      FirstName: first,
      LastName: last,
      Auth0Id: auth0,
      Affiliation: `${pick(random, ['University', 'Institute', 'Hospital'])} of ${pick(random, ['Edinburgh', 'London', 'Berlin', 'Stockholm'])}`,
      CreatedAt: new Date(epoch + Math.floor(random() * 2e11)),
      Preferences: { Theme: pick(random, ['light', 'dark']), Notifications: random() < 0.5 },
      SchemaVersion: 3,
    };
  });

  const projects = Array.from({ length: projectCount }, (_, i) => {
    const owner = investigators[i % investigators.length]!;
    const memberCount = 1 + Math.floor(random() * 5);
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
      CreatedAt: new Date(epoch + Math.floor(random() * 2e11)),
      IsPublic: random() < 0.3,
      SchemaVersion: 5,
    };
  });

  // Zipf-like skew: project k gets weight 1/(k+1), so a few projects hold most studies.
  const weights = projects.map((_, k) => 1 / (k + 1));
  const totalWeight = weights.reduce((a, b) => a + b, 0);
  const projectFor = () => {
    let r = random() * totalWeight;
    for (let k = 0; k < weights.length; k++) {
      r -= weights[k]!;
      if (r <= 0) return projects[k]!;
    }
    return projects[projects.length - 1]!;
  };

  const searches = projects.map((p, i) => ({
    _id: objectIdOf(i),
    ProjectId: p._id,
    Name: `Search ${i}`,
    Query: `(${pick(random, WORDS)} OR ${pick(random, WORDS)}) AND ${pick(random, WORDS)}`,
    RunAt: new Date(epoch + Math.floor(random() * 2e11)),
  }));

  const studies = Array.from({ length: options.studies }, (_, i) => {
    const project = projectFor();
    return {
      _id: csuuid(random),
      ProjectId: project._id,
      Title: sentence(random, 8 + Math.floor(random() * 10)),
      Abstract: sentence(random, 100 + Math.floor(random() * 250)),
      Authors: Array.from({ length: 1 + Math.floor(random() * 6) }, () => `${pick(random, LAST)} ${pick(random, FIRST)[0]}`),
      Year: 1990 + Math.floor(random() * 36),
      Doi: `10.${1000 + (i % 9000)}/syrf.${i}`,
      Annotations: Array.from({ length: Math.floor(random() * 6) }, (_, a) => ({
        QuestionId: objectIdOf(a + 1),
        AnnotatorId: project.Members[a % project.Members.length]!.InvestigatorId,
        Answer: pick(random, ['Yes', 'No', 'Unclear', String(Math.floor(random() * 100))]),
        Notes: random() < 0.3 ? sentence(random, 12) : null,
      })),
      Screening: { Included: random() < 0.6, Score: Math.round(random() * 1000) / 10 },
      CreatedAt: new Date(epoch + Math.floor(random() * 2e11)),
      SchemaVersion: 7,
    };
  });

  const auditLog = Array.from({ length: Math.max(10, Math.ceil(options.studies / 10)) }, (_, i) => {
    const who = investigators[i % investigators.length]!;
    return { _id: new ObjectId(), UserEmail: who.Email, Action: pick(random, ['login', 'export', 'delete']), At: new Date(epoch + i * 1000), Ip: `10.0.${i % 255}.${(i * 7) % 255}` };
  });
  auditLog.forEach((entry) => pii.add(entry.Ip));

  const fileListing = projects.map((p, i) => ({ _id: new ObjectId(), ProjectId: p._id, Path: `/uploads/${i}/references.ris`, UploadedBy: investigators[i % investigators.length]!.Email }));
  const aiJobs = projects.slice(0, Math.ceil(projects.length / 2)).map((p, i) => ({
    _id: csuuid(random),
    ProjectId: p._id,
    Status: pick(random, ['Queued', 'Running', 'Done']),
    CreatedBy: p.OwnerId,
    Model: 'rob-classifier-v2',
    CreatedAt: new Date(epoch + i * 86_400_000),
  }));
  // Production has export jobs; the shipped rules name them, so the test data has a few.
  const exportJobs = projects.slice(0, 2).map((p, i) => ({
    _id: csuuid(random),
    ProjectId: p._id,
    Status: pick(random, ['Queued', 'Running', 'Done']),
    RequestedBy: p.OwnerId,
    Destination: `exports/${i}/data.csv`,
    CreatedAt: new Date(epoch + i * 3_600_000),
  }));

  return {
    collections: {
      pmInvestigator: investigators,
      pmProject: projects,
      pmStudy: studies,
      pmSystematicSearch: searches,
      pmRiskOfBiasAiJob: aiJobs,
      pmDataExportJob: exportJobs,
      pmAuditLog: auditLog,
      asFileListing: fileListing,
    },
    pii: [...pii],
  };
}

export const DATASET_INDEXES: Record<string, Array<{ key: Document; name: string; unique?: boolean }>> = {
  pmInvestigator: [
    { key: { Email: 1 }, name: 'Email_1', unique: true },
    { key: { Auth0Id: 1 }, name: 'Auth0Id_1', unique: true },
  ],
  pmProject: [{ key: { OwnerId: 1 }, name: 'OwnerId_1' }],
  pmStudy: [
    { key: { ProjectId: 1 }, name: 'ProjectId_1' },
    { key: { ProjectId: 1, Year: -1 }, name: 'ProjectId_1_Year_-1' },
  ],
  pmSystematicSearch: [{ key: { ProjectId: 1 }, name: 'ProjectId_1' }],
};

/** Writes the dataset (and its indexes) into `db`, replacing what is there. */
export async function seedDataset(db: Db, options: DatasetOptions): Promise<DatasetSummary> {
  const dataset = buildDataset(options);
  const counts: Record<string, number> = {};
  for (const [name, docs] of Object.entries(dataset.collections)) {
    await db.collection(name).drop().catch(() => undefined);
    for (let i = 0; i < docs.length; i += 1000) {
      await db.collection(name).insertMany(docs.slice(i, i + 1000), { ordered: false });
    }
    for (const index of DATASET_INDEXES[name] ?? []) {
      await db.collection(name).createIndex(index.key, { name: index.name, ...(index.unique ? { unique: true } : {}) });
    }
    counts[name] = docs.length;
  }
  return { counts, pii: dataset.pii };
}
