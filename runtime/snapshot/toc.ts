import { z } from 'zod';
import { PREVIEW_FILE } from '../contract/snapshots.js';

/**
 * The table of contents of a collection-addressable archive: where each
 * part lives in the gzip file. Every part is a run of whole gzip members, so
 * it decompresses on its own; the prelude part is the magic number, archive
 * header and collection list; a collection part is all of that namespace's
 * segments and its EOF header (a time-series collection's data lives in its
 * `system.buckets.` part). The parts are contiguous and in file order:
 * together they are exactly the file.
 */
/** The preview edition's file, beside dump.gz; the contract names it so the restorer's bucket grant includes it. */
export { PREVIEW_FILE };

const sha256 = z.string().regex(/^[0-9a-f]{64}$/);
/** A stored object's version: GCS generation digits, or the file store's `f:` identity token. */
export const objectGeneration = z.string().regex(/^(?:[0-9]{1,20}|f:[0-9]+:[0-9]+:[0-9]+:[0-9]+)$/);
const count = z.number().int().nonnegative();

export const tocRangeSchema = z
  .object({
    /** First byte of the part in the compressed file. */
    offset: count,
    /** Compressed bytes of the part. */
    length: count,
    /** Bytes of the part once decompressed. */
    uncompressedBytes: count,
    /** sha256 of the part's compressed bytes, as stored. */
    sha256,
  })
  .strict();

export const tocCollectionSchema = tocRangeSchema
  .extend({
    /** The namespace's collection name (e.g. `pmStudy`, `system.buckets.metrics`). */
    collection: z.string().min(1),
    documents: count,
  })
  .strict();

export const tableOfContentsSchema = z
  .object({
    prelude: tocRangeSchema,
    collections: z.array(tocCollectionSchema),
  })
  .strict();

export type TocRange = z.infer<typeof tocRangeSchema>;
export type TocCollection = z.infer<typeof tocCollectionSchema>;
export type TableOfContents = z.infer<typeof tableOfContentsSchema>;

/**
 * A second, smaller copy of the snapshot for previews: the rules' size
 * limits with referential subsetting applied once, at capture.
 */
export const previewEditionSchema = z
  .object({
    // A literal: a manifest must not be able to point a restore at another object of the store.
    file: z.literal(PREVIEW_FILE),
    sizeBytes: count,
    sha256,
    uncompressedBytes: count,
    /** The exact stored version of preview.gz; readers refuse any other. Absent in older snapshots. */
    generation: objectGeneration.optional(),
    /** The rules whose size limits made this edition. */
    rulesSha256: sha256,
    collections: z.array(z.object({ name: z.string().min(1), documents: count, bytes: count }).strict()),
    toc: tableOfContentsSchema,
  })
  .strict();

export type PreviewEdition = z.infer<typeof previewEditionSchema>;

/**
 * Problems of a table of contents on its own (before any byte is read): the
 * parts must start at 0, follow each other without gap or overlap and end
 * exactly at the file's size, and name each collection once. A manifest
 * that fails this is refused rather than used to seek into the file.
 */
export function tocLayoutProblems(toc: TableOfContents, fileBytes: number): string[] {
  const problems: string[] = [];
  if (toc.prelude.offset !== 0) problems.push(`the prelude starts at byte ${toc.prelude.offset}, not 0`);
  let next = toc.prelude.offset + toc.prelude.length;
  const seen = new Set<string>();
  for (const part of toc.collections) {
    if (seen.has(part.collection)) problems.push(`collection ${part.collection} is listed twice`);
    seen.add(part.collection);
    if (part.offset !== next) problems.push(`collection ${part.collection} starts at byte ${part.offset}, expected ${next}`);
    next = part.offset + part.length;
  }
  if (next !== fileBytes) problems.push(`the parts end at byte ${next}, the file has ${fileBytes} bytes`);
  return problems;
}

/** The parts that hold a collection's data: its own, and a time-series collection's buckets. */
export function partsOf(toc: TableOfContents, collection: string): TocCollection[] {
  return toc.collections.filter((part) => part.collection === collection || part.collection === `system.buckets.${collection}`);
}
