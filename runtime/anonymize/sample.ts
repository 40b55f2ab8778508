/**
 * Documents for `rules check`, `rules preview` and `rules init`: from a live
 * database or from an archive (a file or a stored snapshot), raw as stored,
 * so the check sees every byte. A sample is uniform: `$sample` where the
 * server has it, otherwise a reservoir over a full scan (never the first N,
 * which would miss a field that only recent documents have).
 */
import type { Db } from 'mongodb';
import type { ArchiveEvent } from '../archive/types.js';
import { offer, type SampleSize } from './check-stage.js';
import { isExcluded, type Rules } from './rules.js';

export interface CollectionSample {
  collection: string;
  /** '' for collections, 'view' or 'timeseries'. */
  type: string;
  /** Documents in the collection (known exactly when the whole collection was read). */
  total: number;
  documents: Buffer[];
}

export interface SampleOptions {
  /** Documents per collection, or every document. */
  size: SampleSize;
  /** Only these collections (default: all). */
  collections?: string[];
  /** Also sample excluded collections (default false: they are never copied, so never read). */
  includeExcluded?: boolean;
  random?: () => number;
}

/** Collections of `db` in name order. */
export async function* sampleDatabase(db: Db, rules: Rules | null, options: SampleOptions): AsyncGenerator<CollectionSample> {
  const infos = await db.listCollections({}, { nameOnly: false }).toArray();
  const wantedInfos = infos.filter((info) => wanted(info.name, rules, options)).sort((a, b) => a.name.localeCompare(b.name));
  for (const info of wantedInfos) {
    const type = info.type === 'view' ? 'view' : info.type === 'timeseries' ? 'timeseries' : '';
    if (type === 'view') {
      yield { collection: info.name, type, total: 0, documents: [] };
      continue;
    }
    yield { collection: info.name, type, ...(await sampleCollection(db, info.name, options)) };
  }
}

async function sampleCollection(db: Db, name: string, options: SampleOptions): Promise<{ total: number; documents: Buffer[] }> {
  const collection = db.collection(name);
  if (options.size !== 'all') {
    try {
      const total = await collection.estimatedDocumentCount();
      const documents = (await collection.aggregate([{ $sample: { size: options.size } }], { raw: true }).toArray()) as unknown as Buffer[];
      return { total: Math.max(total, documents.length), documents: documents.map((d) => Buffer.from(d)) };
    } catch {
      // No $sample on this server (FerretDB): a reservoir over a full scan is still uniform.
    }
  }
  const reservoir = { seen: 0, documents: [] as Buffer[] };
  const limit = options.size === 'all' ? Number.POSITIVE_INFINITY : options.size;
  for await (const raw of collection.find({}, { raw: true, batchSize: 1000 }) as AsyncIterable<unknown>) {
    offer(reservoir, raw as Buffer, limit, options.random ?? Math.random);
  }
  return { total: reservoir.seen, documents: reservoir.documents };
}

/** Reservoir sample of each collection in an archive; memory stays at `size` documents per collection. */
export async function sampleArchive(events: AsyncIterable<ArchiveEvent>, rules: Rules | null, options: SampleOptions): Promise<CollectionSample[]> {
  const samples = new Map<string, CollectionSample & { seen: number }>();
  const limit = options.size === 'all' ? Number.POSITIVE_INFINITY : options.size;
  for await (const event of events) {
    if (event.type === 'prelude') {
      for (const ns of event.namespaces) {
        if (wanted(ns.collection, rules, options)) samples.set(ns.collection, { collection: ns.collection, type: ns.type === 'collection' ? '' : ns.type, total: 0, seen: 0, documents: [] });
      }
      continue;
    }
    if (event.type !== 'segment') continue;
    const sample = samples.get(event.collection);
    if (!sample) continue;
    for (const document of event.documents) offer(sample, document, limit, options.random ?? Math.random);
  }
  return [...samples.values()]
    .sort((a, b) => a.collection.localeCompare(b.collection))
    .map(({ seen, ...sample }) => ({ ...sample, total: seen }));
}

function wanted(name: string, rules: Rules | null, options: SampleOptions): boolean {
  if (options.collections && !options.collections.includes(name)) return false;
  if (rules && !options.includeExcluded && isExcluded(rules, name)) return false;
  if (name.startsWith('system.') && !name.startsWith('system.buckets.')) return false;
  return true;
}
