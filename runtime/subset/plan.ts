/**
 * Which collections of an archive a size limit applies to, and how they hang
 * together: a collection that `follows` a parent keeps only documents that
 * reference a kept parent document, so its state points at the parent's and
 * the parent records which of its fields the children reference.
 */
import type { NamespaceMetadata } from '../archive/types.js';
import type { Logger } from '../ops/log.js';
import { parseFieldPath, type PathSegment } from '../anonymize/paths.js';
import type { Rules, SizeLimit } from '../anonymize/rules.js';
import type { Spool } from './spool.js';

export interface SubsetState {
  db: string;
  collection: string;
  limit: SizeLimit;
  parent: SubsetState | null;
  followField: PathSegment[] | null;
  /** Paths of this collection's fields that active children reference. */
  referencedBy: Map<string, PathSegment[]>;
  spool: Spool | null;
  inputEnded: boolean;
  resolved: boolean;
  /** True when this collection lost documents, so its followers must be filtered. */
  cut: boolean;
  keptKeys: Map<string, Set<string>>;
}

/**
 * One state per collection in `namespaces` (views excluded) that a size limit
 * cuts or that follows a collection which is itself subset, in archive order.
 */
export function planSubsets(namespaces: readonly NamespaceMetadata[], rules: Rules, logger: Logger): SubsetState[] {
  const present = new Map(namespaces.filter((n) => n.type !== 'view').map((n) => [`${n.db}.${n.collection}`, n]));
  const states = new Map<string, SubsetState | null>();
  const stateFor = (db: string, collection: string): SubsetState | null => {
    const ns = `${db}.${collection}`;
    if (states.has(ns)) return states.get(ns)!;
    states.set(ns, null); // rules forbid cycles; this guards anyway
    const limit = rules.sizeLimits.get(collection);
    if (!limit || !present.has(ns)) return null;
    const parent = limit.follows ? stateFor(db, limit.follows.collection) : null;
    if (limit.maxDocuments === null && !parent) return null;
    const state: SubsetState = {
      db,
      collection,
      limit,
      parent,
      followField: parent && limit.follows ? parseFieldPath(limit.follows.field) : null,
      referencedBy: new Map(),
      spool: null,
      inputEnded: false,
      resolved: false,
      cut: false,
      keptKeys: new Map(),
    };
    if (parent && limit.follows) parent.referencedBy.set(limit.follows.references, parseFieldPath(limit.follows.references) ?? []);
    states.set(ns, state);
    return state;
  };
  const planned: SubsetState[] = [];
  for (const entry of present.values()) {
    const state = stateFor(entry.db, entry.collection);
    if (state) planned.push(state);
  }
  for (const [collection, limit] of rules.sizeLimits) {
    if (limit.follows && !namespaces.some((n) => n.collection === limit.follows!.collection)) {
      if (namespaces.some((n) => n.collection === collection)) {
        logger.warn(`${collection} follows ${limit.follows.collection}, which is not in this archive; ${collection} is not filtered by it`);
      }
    }
  }
  return planned;
}

/** `collections` reordered so that every collection comes after the one it follows (when both are listed). */
export function collectionOrder(rules: Rules, collections: string[]): string[] {
  const listed = new Set(collections);
  const ordered: string[] = [];
  const placed = new Set<string>();
  const visiting = new Set<string>();
  const place = (name: string) => {
    if (placed.has(name) || visiting.has(name)) return;
    visiting.add(name);
    const parent = rules.sizeLimits.get(name)?.follows?.collection;
    if (parent !== undefined && listed.has(parent)) place(parent);
    visiting.delete(name);
    placed.add(name);
    ordered.push(name);
  };
  for (const name of collections) place(name);
  return ordered;
}
