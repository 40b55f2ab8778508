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
 *  - Size limits keep a deterministic subset (runtime/subset/): such
 *    collections go through it already anonymized.
 */
import type { ArchiveEvent, NamespaceMetadata } from '../archive/types.js';
import { ExitCode, UserError } from '../errors.js';
import { silentLogger, type Logger } from '../ops/log.js';
import { checkedEvents, type SampleSize } from './check-stage.js';
import { NameRedactor } from './name-redactor.js';
import { ArchiveFormatError } from '../archive/errors.js';
import { UndecodableDocumentError, UnnamedFieldError, anonymizeBytes, createAnonymizer, decideLeaf, type DocumentAnonymizer } from './engine.js';
import { createTransformContext } from './key.js';
import { scrubCollectionMetadata } from './metadata-scrub.js';
import { viewScopeOf } from './view-scrub.js';
import { keyedOrder } from './order.js';
import { BUCKETS_PREFIX, isExcluded, type Rules } from './rules.js';
import { SubsetRun, type SubsetState } from '../subset/subset-run.js';

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

/** Prelude types the engine understands; anything else is copied only when a rule names it. */
const KNOWN_TYPES = new Set(['', 'collection', 'view', 'timeseries']);

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
  const subsets = new SubsetRun(rules, logger, options.tempDir);
  const counters = new Map<string, number>();
  // Messages name only collections the rules name: a collection name can be data too.
  const names = new NameRedactor(rules);
  const shown = (db: string, collection: string) => `${db}.${names.collection(collection)}`;
  const viewScope = anonymizer ? viewScopeOf(rules, anonymizer) : null;

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
    const doc = namesExplicitly(db, collection) ? (anonymizer!.forCollection(collection) ?? anonymizer!.forCollection(collection === owner ? `${BUCKETS_PREFIX}${owner}` : owner)) : null;
    if (!doc) {
      // Not in the prelude (so never refused there), or `unnamed_collections: drop`.
      if (rules.unnamedCollections === 'refuse') throw unnamedCollectionsError([shown(db, collection)], rules);
      logger.warn(`${shown(db, collection)} is not named by the rules; it is left out (unnamed_collections: drop)`);
      return { kind: 'drop' };
    }
    return { kind: 'transform', anonymizer: doc };
  };

  /** A view is copied only when named under `rules` (a size limit cannot make a view safe). */
  const namesExplicitly = (db: string, collection: string) => preludeTypes.get(`${db}.${collection}`) !== 'view' || rules.collections.has(collection);

  /** With a key: refuses (or drops) every prelude entry the rules do not name, all at once. */
  const checkPrelude = (namespaces: NamespaceMetadata[]) => {
    if (!anonymizer) return;
    const unnamed: string[] = [];
    for (const n of namespaces) {
      preludeTypes.set(`${n.db}.${n.collection}`, n.type);
      if (!keepsCollection(n.collection)) continue;
      const named =
        namesExplicitly(n.db, n.collection) &&
        (anonymizer.forCollection(n.collection) ?? (n.type === 'timeseries' ? anonymizer.forCollection(`${BUCKETS_PREFIX}${n.collection}`) : null));
      if (!named) unnamed.push(`${shown(n.db, n.collection)}${n.type && n.type !== 'collection' ? ` (${KNOWN_TYPES.has(n.type) ? n.type : 'a type the engine does not know'})` : ''}`);
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
        onDroppedIndexes: (count) => logger.warn(`${shown(n.db, n.collection)}: ${count} index(es) on fields the rules do not name are left out of the anonymized copy`),
        isTransformedPath: (collection, path) => decideLeaf(rules, rules.collections.get(collection) ?? null, path.split('.')).kind === 'transform',
        ...(viewScope ? { view: viewScope } : {}),
      });
      // A type the engine does not know is text from the input; the entry was treated as a collection.
      return { ...n, metadata, type: KNOWN_TYPES.has(n.type) ? n.type : 'collection' };
    } catch (error) {
      if (error instanceof ArchiveFormatError) {
        // Not the parser's message: it can quote a value from the metadata.
        throw new UserError(`${shown(n.db, n.collection)}: its collection metadata cannot be parsed; refusing to copy it un-scrubbed`, {
          hint: 'the archive is damaged or not a mongodump archive; take a new snapshot',
          exitCode: ExitCode.corrupt,
        });
      }
      throw error;
    }
  };

  const planSubsets = (namespaces: NamespaceMetadata[]) => {
    if (!applySizeLimits) return;
    for (const state of subsets.plan(namespaces)) {
      const base = modeOf(state.db, state.collection);
      modes.set(`${state.db}.${state.collection}`, { kind: 'subset', anonymizer: base.kind === 'transform' ? base.anonymizer : null, state });
    }
  };

  const transformBatch = (db: string, collection: string, documents: Buffer[], doc: DocumentAnonymizer): Buffer[] => {
    const ns = `${db}.${collection}`;
    const where = shown(db, collection);
    let index = counters.get(ns) ?? 0;
    const out = documents.map((bytes) => {
      try {
        return anonymizeBytes(bytes, doc);
      } catch (error) {
        if (error instanceof UnnamedFieldError) {
          throw new UserError(`${where}: field ${error.path} (document #${index}) is not named by any rule, and the rules say unnamed_fields: refuse`, {
            hint: `add a rule for it under rules.${collection}.fields in ${rules.fileName} (a transform, or keep with a reason), or give ${collection} a default`,
            exitCode: ExitCode.refused,
          });
        }
        if (error instanceof UndecodableDocumentError) {
          throw new UserError(`${where}: document #${index} cannot be decoded (${error.message}); refusing to pass it on un-anonymized`, {
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

  try {
    for await (const event of events) {
      if (event.type === 'prelude') {
        checkPrelude(event.namespaces);
        const kept = event.namespaces.filter((n) => modeOf(n.db, n.collection).kind !== 'drop');
        if (wanted) {
          for (const name of wanted) {
            if (!event.namespaces.some((n) => n.collection === name)) logger.warn(`collection ${names.collection(name)} was asked for but is not in the archive`);
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
            await subsets.append(mode.state, documents);
          } else {
            yield* subsets.ended(mode.state);
          }
          break;
      }
    }
    yield* subsets.finish();
  } finally {
    await subsets.close();
  }
}

function unnamedCollectionsError(namespaces: string[], rules: Rules): UserError {
  return new UserError(`${namespaces.length} collection(s) are not named by the rules, so nothing says how to anonymize them: ${namespaces.join(', ')}`, {
    hint: `name each under rules: in ${rules.fileName} (fields, or a default such as { transform: mask }), list it under exclusions, or set unnamed_collections: drop; names no rule contains are shown as <unnamed collection #n> (\`syrf-db rules check --show-unnamed-names\` prints them on a trusted terminal)`,
    exitCode: ExitCode.refused,
  });
}

/**
 * Size limits with referential subsetting (and exclusions) over an archive
 * that was anonymized at capture: no key needed, no field is rewritten.
 */
export function subsetArchive(events: AsyncIterable<ArchiveEvent>, options: Omit<AnonymizeOptions, 'key' | 'applySizeLimits'>): AsyncGenerator<ArchiveEvent> {
  return anonymizeArchive(events, { ...options, key: null, applySizeLimits: true });
}
