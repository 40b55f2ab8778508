/**
 * The archive-to-archive measurements: the anonymize filter, the same
 * filter with no rules (pass-through), and their baselines — recompressing
 * the same archive (the physical floor: every byte must be inflated and
 * deflated again) and a plain BSON decode + encode of every document.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { BSON } from 'bson';
import { openArchive } from '../runtime/archive/reader.js';
import { anonymizeFile } from '../runtime/io/anonymize-file.js';
import type { Rules } from '../runtime/anonymize/rules.js';

const READ_CHUNK = 1 << 20;

/** gunzip | gzip of the archive at `level`, in-process with Node's zlib streams. */
export async function recompress(input: string, output: string, level: number): Promise<void> {
  await pipeline(createReadStream(input, { highWaterMark: READ_CHUNK }), createGunzip(), createGzip({ level }), createWriteStream(output));
}

/** The real `syrf-db anonymize` pipeline (gzip in, gzip out). */
export async function anonymize(input: string, output: string, rules: Rules, key: Buffer | null, applySizeLimits: boolean): Promise<void> {
  await anonymizeFile({ input, output, gzip: true, rules, key, applySizeLimits });
}

/** Every document of the archive, for the BSON baseline (default-scale archives only: this is in memory). */
export async function archiveDocuments(path: string): Promise<Buffer[]> {
  const documents: Buffer[] = [];
  for await (const event of openArchive(createReadStream(path, { highWaterMark: READ_CHUNK }))) {
    if (event.type === 'segment') for (const doc of event.documents) documents.push(Buffer.from(doc));
  }
  return documents;
}

/** The `bson` package's plain deserialize + serialize of each document. */
export function bsonRoundTrip(documents: readonly Buffer[]): number {
  let bytes = 0;
  for (const doc of documents) bytes += BSON.serialize(BSON.deserialize(doc)).length;
  return bytes;
}
