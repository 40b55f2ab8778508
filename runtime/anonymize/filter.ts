/**
 * The anonymizing archive filter: ArchiveEvents in, ArchiveEvents out.
 *  - With a key (anonymizing), every collection is either named by the rules
 *    (and every document goes through the allow-list engine), excluded, or
 *    refused / dropped (`unnamed_collections`); views and time-series
 *    collections likewise. Kept collections' metadata is scrubbed and their
 *    documents come out in a keyed order, never in input order.
 *  - Without a key (an already anonymized snapshot) collections pass through
 *    as the same Buffers; only exclusions, the collection subset and size limits apply.
 *  - Excluded collections (and those outside `collections`) vanish from prelude and body.
 *  - Size limits keep a deterministic subset; collections that `follow` a cut
 *    parent keep only documents referencing kept parents. Such collections are
 *    spooled (already anonymized) to a temp file until they and their parent
 *    have ended, then replayed; the temp files are deleted in every case.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BSON, type Document } from 'bson';
import type { ArchiveEvent, NamespaceMetadata } from '../archive/types.js';
import { ExitCode, UserError } from '../errors.js';
import { silentLogger, type Logger } from '../ops/log.js';
import { canonicalKey, rankOfId, valuesAt } from './canonical.js';
import { checkedEvents, type SampleSize } from './check-stage.js';
import { ArchiveFormatError } from '../archive/errors.js';
import { DECODE_OPTIONS, UndecodableDocumentError, UnnamedFieldError, anonymizeBytes, createAnonymizer, decideLeaf, decodeFields, type DocumentAnonymizer } from './engine.js';
import { createTransformContext } from './key.js';
import { scrubCollectionMetadata } from './metadata-scrub.js';
import { keyedOrder } from './order.js';
import { parseFieldPath, type PathSegment } from './paths.js';
import { BUCKETS_PREFIX, isExcluded, type Rules, type SizeLimit } from './rules.js';
import { SmallestN } from './select.js';
import { Spool } from './spool.js';

export interface AnonymizeOptions {
  rules: Rules;
  /** null: the data is already anonymized; only exclusions, the collection subset and size limits apply. */
  key: Buffer | null;
  /** Default true. False copies every document of the collections that are kept (staging). */
  applySizeLimits?: boolean;
  /** Only these collections are kept (others are dropped like exclusions). */
  collections?: string[];
  logger?: Logger;
  /** Where spool files go; default os.tmpdir(). */
  tempDir?: string;
  /**
   * The coverage check, run on the input whenever a key is given (so every
   * anonymizing path gets it); false only for tests of the engine alone.
   */
  check?: { sample?: SampleSize; strict?: boolean } | false;
}

const BATCH_DOCUMENTS = 1000;
/** Prelude types the engine understands; anything else is copied only when a rule names it. */
const KNOWN_TYPES = new Set(['', 'collection', 'view', 'timeseries']);

interface SubsetState {
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

type Mode =
  | { kind: 'drop' }
  | { kind: 'pass' }
  | { kind: 'transform'; anonymizer: DocumentAnonymizer }
  | { kind: 'subset'; anonymizer: DocumentAnonymizer | null; state: SubsetState };

export function anonymizeArchive(events: AsyncIterable<ArchiveEvent>, options: AnonymizeOptions): AsyncGenerator<ArchiveEvent> {
  if (options.key && options.check !== false) {
    events = checkedEvents(events, options.rules, {
      sample: options.check?.sample ?? 'all',
      strict: options.check?.strict ?? false,
      ...(options.collections ? { collections: options.collections } : {}),
      ...(options.logger ? { logger: options.logger } : {}),
    });
  }
  const filtered = filterArchive(events, options);
  return options.key ? keyedOrder(filtered, options.key, options.tempDir ? { tempDir: options.tempDir } : {}) : filtered;
}

async function* filterArchive(events: AsyncIterable<ArchiveEvent>, options: AnonymizeOptions): AsyncGenerator<ArchiveEvent> {
  const { rules } = options;
  const logger = options.logger ?? silentLogger;
  const anonymizer = options.key ? createAnonymizer(rules, options.key) : null;
  const metadataContext = options.key ? createTransformContext(options.key) : null;
  const applySizeLimits = options.applySizeLimits ?? true;
  const wanted = options.collections ? new Set(options.collections) : null;
  const modes = new Map<string, Mode>();
  const subsets: SubsetState[] = [];
  let spoolDir: string | null = null;
  const counters = new Map<string, number>();

  const keepsCollection = (collection: string) => !isExcluded(rules, collection) && (wanted === null || wanted.has(collection));

  /** Prelude entries by namespace, for the collection type (view, timeseries) and the owner of bucket data. */
  const preludeTypes = new Map<string, string>();

  const modeOf = (db: string, collection: string): Mode => {
    const ns = `${db}.${collection}`;
    let mode = modes.get(ns);
    if (mode) return mode;
    mode = anonymizer ? anonymizingMode(db, collection) : subsetMode(db, collection);
    modes.set(ns, mode);
    return mode;
  };

  /** Already anonymized input: everything kept is copied as it is. */
  const subsetMode = (db: string, collection: string): Mode => {
    if (collection.startsWith(BUCKETS_PREFIX)) {
      const owner = collection.slice(BUCKETS_PREFIX.length);
      if (!keepsCollection(owner)) return { kind: 'drop' };
      if (applySizeLimits && rules.sizeLimits.has(owner)) {
        throw new UserError(`${db}.${owner} is a time-series collection, which size limits cannot address`, {
          hint: `remove the size limit of ${owner}, or exclude it in the rules file`,
          exitCode: ExitCode.refused,
        });
      }
      return { kind: 'pass' };
    }
    return keepsCollection(collection) ? { kind: 'pass' } : { kind: 'drop' };
  };

  /**
   * Anonymizing: a collection is copied only when the rules name it (bucket
   * data by its own name or its time-series collection's); anything else was
   * refused at the prelude or is dropped.
   */
  const anonymizingMode = (db: string, collection: string): Mode => {
    const owner = collection.startsWith(BUCKETS_PREFIX) ? collection.slice(BUCKETS_PREFIX.length) : collection;
    if (!keepsCollection(owner) || !keepsCollection(collection)) return { kind: 'drop' };
    const doc = anonymizer!.forCollection(collection) ?? anonymizer!.forCollection(collection === owner ? `${BUCKETS_PREFIX}${owner}` : owner);
    if (!doc) {
      // Not in the prelude (so never refused there), or `unnamed_collections: drop`.
      if (rules.unnamedCollections === 'refuse') throw unnamedCollectionsError([`${db}.${collection}`], rules);
      logger.warn(`${db}.${collection} is not named by the rules; it is left out (unnamed_collections: drop)`);
      return { kind: 'drop' };
    }
    return { kind: 'transform', anonymizer: doc };
  };

  /** With a key: refuses (or drops) every prelude entry the rules do not name, all at once. */
  const checkPrelude = (namespaces: NamespaceMetadata[]) => {
    if (!anonymizer) return;
    const unnamed: string[] = [];
    for (const n of namespaces) {
      preludeTypes.set(`${n.db}.${n.collection}`, n.type);
      if (!keepsCollection(n.collection)) continue;
      const named = anonymizer.forCollection(n.collection) ?? (n.type === 'timeseries' ? anonymizer.forCollection(`${BUCKETS_PREFIX}${n.collection}`) : null);
      if (!named) unnamed.push(`${n.db}.${n.collection}${n.type && n.type !== 'collection' ? ` (${KNOWN_TYPES.has(n.type) ? n.type : `unknown type "${n.type}"`})` : ''}`);
    }
    if (unnamed.length === 0) return;
    if (rules.unnamedCollections === 'refuse') throw unnamedCollectionsError(unnamed, rules);
    logger.warn(`${unnamed.length} collection(s) not named by the rules are left out (unnamed_collections: drop): ${unnamed.join(', ')}`);
  };

  const scrubMetadata = (n: NamespaceMetadata): NamespaceMetadata => {
    const mode = modeOf(n.db, n.collection);
    if (mode.kind !== 'transform' && mode.kind !== 'subset') return n;
    const doc = mode.kind === 'transform' ? mode.anonymizer : mode.anonymizer;
    if (!doc || !metadataContext) return n;
    try {
      const owner = n.collection.startsWith(BUCKETS_PREFIX) ? n.collection.slice(BUCKETS_PREFIX.length) : n.collection;
      const entry = rules.collections.get(n.collection) ?? rules.collections.get(owner) ?? null;
      const metadata = scrubCollectionMetadata(n.metadata, doc, metadataContext, `${n.db}.${n.collection}`, {
        isNamedPath: (path) => decideLeaf(rules, entry, path.split('.')).kind !== 'default',
        onDroppedIndexes: (count) => logger.warn(`${n.db}.${n.collection}: ${count} index(es) on fields the rules do not name are left out of the anonymized copy`),
      });
      return { ...n, metadata };
    } catch (error) {
      if (error instanceof ArchiveFormatError) {
        throw new UserError(`${n.db}.${n.collection}: its collection metadata cannot be parsed (${error.message}); refusing to copy it un-scrubbed`, {
          hint: 'the archive is damaged or not a mongodump archive; take a new snapshot',
          exitCode: ExitCode.corrupt,
        });
      }
      throw error;
    }
  };

  const planSubsets = (namespaces: NamespaceMetadata[]) => {
    if (!applySizeLimits) return;
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
    for (const entry of present.values()) {
      const state = stateFor(entry.db, entry.collection);
      if (!state) continue;
      const base = modeOf(entry.db, entry.collection);
      modes.set(`${entry.db}.${entry.collection}`, { kind: 'subset', anonymizer: base.kind === 'transform' ? base.anonymizer : null, state });
      subsets.push(state);
    }
    for (const [collection, limit] of rules.sizeLimits) {
      if (limit.follows && !namespaces.some((n) => n.collection === limit.follows!.collection)) {
        if (namespaces.some((n) => n.collection === collection)) {
          logger.warn(`${collection} follows ${limit.follows.collection}, which is not in this archive; ${collection} is not filtered by it`);
        }
      }
    }
  };

  const spoolFor = async (state: SubsetState): Promise<Spool> => {
    if (!state.spool) {
      spoolDir ??= await mkdtemp(join(options.tempDir ?? tmpdir(), 'syrf-anonymize-'));
      state.spool = new Spool(join(spoolDir, `${subsets.indexOf(state)}.bson`));
    }
    return state.spool;
  };

  const transformBatch = (db: string, collection: string, documents: Buffer[], doc: DocumentAnonymizer): Buffer[] => {
    const ns = `${db}.${collection}`;
    let index = counters.get(ns) ?? 0;
    const out = documents.map((bytes) => {
      try {
        return anonymizeBytes(bytes, doc);
      } catch (error) {
        if (error instanceof UnnamedFieldError) {
          throw new UserError(`${ns}: field ${error.path} (document #${index}) is not named by any rule, and the rules say unnamed_fields: refuse`, {
            hint: `add a rule for it under rules.${collection}.fields in ${rules.fileName} (a transform, or keep with a reason), or give ${collection} a default`,
            exitCode: ExitCode.refused,
          });
        }
        if (error instanceof UndecodableDocumentError) {
          throw new UserError(`${ns}: document #${index} cannot be decoded (${error.message}); refusing to pass it on un-anonymized`, {
            hint: 'the archive is damaged or not a mongodump archive; take a new snapshot',
            exitCode: ExitCode.corrupt,
          });
        }
        throw error;
      } finally {
        index++;
      }
    });
    counters.set(ns, index);
    return out;
  };

  async function* resolveReady(endOfInput: boolean): AsyncGenerator<ArchiveEvent> {
    for (let progress = true; progress; ) {
      progress = false;
      for (const state of subsets) {
        if (state.resolved) continue;
        const parentDone = state.parent === null || state.parent.resolved;
        if (!(parentDone && (state.inputEnded || endOfInput))) continue;
        yield* emitSubset(state, logger);
        progress = true;
      }
    }
  }

  try {
    for await (const event of events) {
      if (event.type === 'prelude') {
        checkPrelude(event.namespaces);
        const kept = event.namespaces.filter((n) => modeOf(n.db, n.collection).kind !== 'drop');
        if (wanted) {
          for (const name of wanted) {
            if (!event.namespaces.some((n) => n.collection === name)) logger.warn(`collection ${name} was asked for but is not in the archive`);
          }
        }
        planSubsets(kept);
        const namespaces = anonymizer ? kept.map(scrubMetadata) : kept;
        // Anonymized archives say only which server release made them: build suffixes and tool strings may carry anything.
        const header = anonymizer ? { ...event.header, serverVersion: /^\d+\.\d+\.\d+/.exec(event.header.serverVersion)?.[0] ?? '0.0.0', toolVersion: 'syrf-db' } : event.header;
        yield anonymizer === null && namespaces.length === event.namespaces.length ? event : { ...event, header, namespaces };
        continue;
      }
      const mode = modeOf(event.db, event.collection);
      switch (mode.kind) {
        case 'drop':
          break;
        case 'pass':
          yield event;
          break;
        case 'transform':
          if (event.type === 'segment') {
            yield { ...event, documents: transformBatch(event.db, event.collection, event.documents, mode.anonymizer) };
          } else {
            yield { ...event, crc: 0n };
          }
          break;
        case 'subset':
          if (event.type === 'segment') {
            const documents = mode.anonymizer ? transformBatch(event.db, event.collection, event.documents, mode.anonymizer) : event.documents;
            await (await spoolFor(mode.state)).append(documents);
          } else {
            mode.state.inputEnded = true;
            yield* resolveReady(false);
          }
          break;
      }
    }
    yield* resolveReady(true);
  } finally {
    for (const state of subsets) await state.spool?.close().catch(() => undefined);
    if (spoolDir) await rm(spoolDir, { recursive: true, force: true });
  }
}

function unnamedCollectionsError(namespaces: string[], rules: Rules): UserError {
  return new UserError(`${namespaces.length} collection(s) are not named by the rules, so nothing says how to anonymize them: ${namespaces.join(', ')}`, {
    hint: `name each under rules: in ${rules.fileName} (fields, or a default such as { transform: mask }), list it under exclusions, or set unnamed_collections: drop`,
    exitCode: ExitCode.refused,
  });
}

/** Replays a spooled collection, keeping what its size limit and its parent allow. */
async function* emitSubset(state: SubsetState, logger: Logger): AsyncGenerator<ArchiveEvent> {
  const { db, collection } = state;
  const parentKeys =
    state.parent?.cut && state.limit.follows ? (state.parent.keptKeys.get(state.limit.follows.references) ?? new Set<string>()) : null;
  const followField = state.followField ?? [];
  const belongs = (doc: Document) => parentKeys === null || valuesAt(doc, followField).some((v) => parentKeys.has(canonicalKey(v)));
  // Only `_id` and the referenced fields are looked at: decode just those top-level fields.
  const paths = [...(parentKeys ? [followField] : []), ...state.referencedBy.values()];
  const names = paths.some((path) => path.length === 0) ? null : [...new Set(['_id', ...paths.map((path) => path[0]!.name)])].map((name) => Buffer.from(name, 'utf8'));
  const decode = names ? (bytes: Buffer) => decodeFields(bytes, names) : (bytes: Buffer) => BSON.deserialize(bytes, DECODE_OPTIONS);

  let selector: SmallestN | null = null;
  let candidates = 0;
  if (state.limit.maxDocuments !== null && state.spool) {
    selector = new SmallestN(state.limit.maxDocuments);
    for await (const batch of state.spool.batches()) {
      for (const bytes of batch) {
        const doc = decode(bytes);
        if (belongs(doc)) selector.offer({ rank: rankOfId(doc._id), seq: candidates++ });
      }
    }
  }

  for (const path of state.referencedBy.keys()) state.keptKeys.set(path, new Set());
  let total = 0;
  let kept = 0;
  let seq = 0;
  if (state.spool) {
    for await (const batch of state.spool.batches()) {
      const out: Buffer[] = [];
      for (const bytes of batch) {
        total++;
        const doc = decode(bytes);
        if (!belongs(doc)) continue;
        if (selector && !selector.keeps({ rank: rankOfId(doc._id), seq: seq++ })) continue;
        out.push(bytes);
        for (const [path, segments] of state.referencedBy) {
          const keys = state.keptKeys.get(path)!;
          for (const value of valuesAt(doc, segments)) keys.add(canonicalKey(value));
        }
      }
      kept += out.length;
      for (let i = 0; i < out.length; i += BATCH_DOCUMENTS) {
        yield { type: 'segment', db, collection, documents: compacted(out.slice(i, i + BATCH_DOCUMENTS)) };
      }
    }
  }
  await state.spool?.remove();
  state.cut = kept < total;
  state.resolved = true;
  logger.info(`subset ${db}.${collection}: kept ${kept} of ${total} documents`, {
    ...(state.limit.maxDocuments !== null ? { limit: state.limit.maxDocuments } : {}),
    ...(state.parent ? { follows: state.parent.collection } : {}),
  });
  yield { type: 'eof', db, collection, crc: 0n };
}

/**
 * The documents copied side by side into one new buffer. Kept documents are
 * views of the spool's read chunks, and a view keeps its whole chunk alive:
 * when a size limit keeps 1 document in 40, the writer's 1 MiB of pending
 * output would otherwise pin ~40 MiB of chunks, growing as the input grows.
 */
function compacted(documents: Buffer[]): Buffer[] {
  if (documents.length === 0) return documents;
  const joined = Buffer.concat(documents);
  let at = 0;
  return documents.map((document) => {
    const copy = joined.subarray(at, at + document.length);
    at += document.length;
    return copy;
  });
}

/**
 * Size limits with referential subsetting (and exclusions) over an archive
 * that was anonymized at capture: no key needed, no field is rewritten.
 */
export function subsetArchive(events: AsyncIterable<ArchiveEvent>, options: Omit<AnonymizeOptions, 'key' | 'applySizeLimits'>): AsyncGenerator<ArchiveEvent> {
  return anonymizeArchive(events, { ...options, key: null, applySizeLimits: true });
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
