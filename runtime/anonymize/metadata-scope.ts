/**
 * What the rules let collection metadata (indexes, partial filters, views)
 * publish: shared by the metadata scrubber and the view pipeline scrubber.
 */
import type { DocumentAnonymizer } from './engine.js';

export interface MetadataScrubOptions {
  /** True when the rules name this dotted field path (so its name may be published). */
  isNamedPath: (path: string) => boolean;
  /** Called with the number of indexes left out because they reference paths the rules do not name. */
  onDroppedIndexes?: (count: number) => void;
  /**
   * True when the rules transform the value at this dotted path of that
   * collection (not keep, keep_subtree or a default): only such values may
   * be published as the rules make them; every other literal is masked.
   * Absent: every literal is masked.
   */
  isTransformedPath?: (collection: string, path: string) => boolean;
  /**
   * For a view: which names the rules publish, and the anonymizer of the
   * collections its stages read. Without it, every name but `_id` in the
   * pipeline is replaced and every compared value masked.
   */
  view?: {
    isNamedSegment: (name: string) => boolean;
    isNamedCollection: (name: string) => boolean;
    anonymizerFor: (collection: string) => DocumentAnonymizer | null;
  };
}
