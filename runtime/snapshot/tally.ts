import type { ArchiveEvent, NamespaceMetadata } from '../archive/types.js';
import { peekTopLevelScalar } from '../util/bson-peek.js';

export interface CollectionTally {
  documents: number;
  bytes: number;
  schemaVersions: Set<string | number>;
}

/** What passed through a stage of the pipeline: the prelude and per-collection counts. */
export interface ArchiveTally {
  namespaces: NamespaceMetadata[];
  collections: Map<string, CollectionTally>;
  documents: number;
  bytes: number;
}

export interface TallyOptions {
  /** Top-level field whose distinct values are recorded as schema versions. */
  schemaVersionField?: string;
  onProgress?: (collection: string, tally: CollectionTally, total: ArchiveTally) => void;
}

const MAX_SCHEMA_VERSIONS = 20;

export function emptyTally(): ArchiveTally {
  return { namespaces: [], collections: new Map(), documents: 0, bytes: 0 };
}

/** Counts events as they stream past, without changing them. */
export async function* tallyEvents(
  events: AsyncIterable<ArchiveEvent>,
  tally: ArchiveTally,
  options: TallyOptions = {},
): AsyncGenerator<ArchiveEvent> {
  for await (const event of events) {
    if (event.type === 'prelude') {
      tally.namespaces = event.namespaces;
      for (const ns of event.namespaces) {
        tally.collections.set(ns.collection, { documents: 0, bytes: 0, schemaVersions: new Set() });
      }
    } else if (event.type === 'segment') {
      const entry = tally.collections.get(event.collection) ?? { documents: 0, bytes: 0, schemaVersions: new Set() };
      tally.collections.set(event.collection, entry);
      let segmentBytes = 0;
      for (const doc of event.documents) {
        segmentBytes += doc.length;
        if (options.schemaVersionField && entry.schemaVersions.size < MAX_SCHEMA_VERSIONS) {
          const version = peekTopLevelScalar(doc, options.schemaVersionField);
          if (version !== undefined) entry.schemaVersions.add(version);
        }
      }
      entry.documents += event.documents.length;
      entry.bytes += segmentBytes;
      tally.documents += event.documents.length;
      tally.bytes += segmentBytes;
      options.onProgress?.(event.collection, entry, tally);
    }
    yield event;
  }
}
