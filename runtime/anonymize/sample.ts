/**
 * Sampled documents for `rules check` and `rules preview`: from a live
 * database or from an archive (a file or a stored snapshot). Documents are
 * decoded the way the filter decodes them, so both see the same types.
 */
import { BSON } from 'bson';
import type { Db } from 'mongodb';
import type { ArchiveEvent } from '../archive/types.js';
import type { CollectionSample } from './coverage.js';
import { DECODE_OPTIONS } from './engine.js';
import { isExcluded, type Rules } from './rules.js';

export interface SampleOptions {
  /** Documents per collection. */
  size: number;
  /** Only these collections (default: all). */
  collections?: string[];
  /** Also sample excluded collections (default false: they are never copied). */
  includeExcluded?: boolean;
}

/** Collections of `db` in name order, each with up to `size` documents ($sample where the server has it). */
export async function* sampleDatabase(db: Db, rules: Rules, options: SampleOptions): AsyncGenerator<CollectionSample> {
  const infos = await db.listCollections({}, { nameOnly: false }).toArray();
  const names = infos
    .filter((info) => info.type === undefined || info.type === 'collection')
    .map((info) => info.name)
    .filter((name) => wanted(name, rules, options))
    .sort();
  for (const name of names) {
    const collection = db.collection(name);
    let raw: Buffer[];
    try {
      raw = (await collection.aggregate([{ $sample: { size: options.size } }], { raw: true }).toArray()) as unknown as Buffer[];
    } catch {
      // Servers without $sample (e.g. some FerretDB versions) still give a useful sample.
      raw = (await collection.find({}, { raw: true, limit: options.size }).toArray()) as unknown as Buffer[];
    }
    yield { collection: name, documents: raw.map((bytes) => BSON.deserialize(bytes, DECODE_OPTIONS)) };
  }
}

/** Reservoir sample of each collection in an archive; memory stays at `size` documents per collection. */
export async function sampleArchive(events: AsyncIterable<ArchiveEvent>, rules: Rules, options: SampleOptions): Promise<CollectionSample[]> {
  const reservoirs = new Map<string, { seen: number; documents: Buffer[] }>();
  for await (const event of events) {
    if (event.type === 'prelude') {
      for (const ns of event.namespaces) {
        if (ns.type !== 'view' && wanted(ns.collection, rules, options)) reservoirs.set(ns.collection, { seen: 0, documents: [] });
      }
      continue;
    }
    if (event.type !== 'segment') continue;
    const reservoir = reservoirs.get(event.collection);
    if (!reservoir) continue;
    for (const document of event.documents) {
      reservoir.seen++;
      // Copy: the reader's documents are views of large input chunks.
      if (reservoir.documents.length < options.size) reservoir.documents.push(Buffer.from(document));
      else {
        const slot = Math.floor(Math.random() * reservoir.seen);
        if (slot < options.size) reservoir.documents[slot] = Buffer.from(document);
      }
    }
  }
  return [...reservoirs]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([collection, r]) => ({ collection, documents: r.documents.map((bytes) => BSON.deserialize(bytes, DECODE_OPTIONS)) }));
}

function wanted(name: string, rules: Rules, options: SampleOptions): boolean {
  if (options.collections && !options.collections.includes(name)) return false;
  if (!options.includeExcluded && isExcluded(rules, name)) return false;
  return true;
}
