import { z } from 'zod';
import { UserError, ExitCode } from '../errors.js';
import { SIGNATURE_ALGORITHM, signManifestJson, type SigningKey } from './signature.js';
import { objectGeneration, previewEditionSchema, tableOfContentsSchema } from './toc.js';

/**
 * manifest.json: everything a restorer needs to trust and plan a restore
 * without opening the archive. Versioned so old snapshots stay readable.
 */
export const MANIFEST_VERSION = 1;

const indexSpec = z.record(z.string(), z.unknown());

const collectionEntry = z
  .object({
    name: z.string().min(1),
    type: z.enum(['collection', 'view', 'timeseries']),
    documents: z.number().int().nonnegative(),
    /** Uncompressed BSON bytes of the documents in the archive. */
    bytes: z.number().int().nonnegative(),
    indexes: z.array(indexSpec),
    options: z.record(z.string(), z.unknown()),
    /** Distinct values of the schema-version field seen in this collection (bounded). */
    schemaVersions: z.array(z.union([z.string(), z.number()])),
  })
  .strict();

export const manifestSchema = z
  .object({
    manifestVersion: z.literal(MANIFEST_VERSION),
    id: z.string().min(1),
    createdAt: z.iso.datetime(),
    completedAt: z.iso.datetime(),
    durationSeconds: z.number().nonnegative(),
    source: z
      .object({
        db: z.string().min(1),
        /** Host list only; credentials are never recorded. */
        hosts: z.array(z.string()),
        serverVersion: z.string(),
      })
      .strict(),
    tool: z.object({ name: z.literal('syrf-db-tools'), version: z.string() }).strict(),
    archive: z
      .object({
        file: z.string().min(1),
        format: z.literal('mongodump-archive'),
        compression: z.literal('gzip'),
        sizeBytes: z.number().int().nonnegative(),
        sha256: z.string().regex(/^[0-9a-f]{64}$/),
        uncompressedBytes: z.number().int().nonnegative(),
        /**
         * The exact stored version of dump.gz (GCS generation, or the file store's
         * identity token): readers refuse any other version. Absent in older snapshots.
         */
        generation: objectGeneration.optional(),
        /** Collection-addressable archives only (absent in older snapshots): each collection's byte range. */
        toc: tableOfContentsSchema.optional(),
      })
      .strict(),
    collections: z.array(collectionEntry),
    excludedCollections: z.array(z.string()),
    anonymization: z
      .object({
        anonymized: z.boolean(),
        rulesSha256: z.string().regex(/^[0-9a-f]{64}$/).nullable(),
        /** HMAC of a fixed label under the key: tells keys apart without revealing them. */
        keyFingerprint: z.string().nullable(),
        sizeLimitsApplied: z.boolean(),
      })
      .strict(),
    /** Ed25519 over the canonical manifest without this field (see signature.ts); absent when the producer had no key. */
    signature: z
      .object({ algorithm: z.literal(SIGNATURE_ALGORITHM), keyId: z.string().regex(/^[0-9a-f]{16}$/), value: z.string().min(1) })
      .strict()
      .optional(),
    /** The size-limited edition per-PR restores read (absent in older snapshots). */
    preview: previewEditionSchema.optional(),
  })
  .strict();

export type Manifest = z.infer<typeof manifestSchema>;
export type ManifestCollection = z.infer<typeof collectionEntry>;

/** The manifest as stored; signed when the producer has a key (any earlier signature is replaced). */
export function serializeManifest(manifest: Manifest, signingKey?: SigningKey): string {
  const { signature: _old, ...unsigned } = manifestSchema.parse(manifest);
  const json: Record<string, unknown> = JSON.parse(JSON.stringify(unsigned)) as Record<string, unknown>;
  if (signingKey) json.signature = signManifestJson(json, signingKey);
  return JSON.stringify(json, null, 2) + '\n';
}

export function parseManifest(text: string, where: string): Manifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new UserError(`${where} is not valid JSON: ${(error as Error).message}`, {
      hint: 'the snapshot is damaged; restore another id or re-run the snapshot',
      exitCode: ExitCode.corrupt,
    });
  }
  const result = manifestSchema.safeParse(json);
  if (!result.success) {
    const first = result.error.issues[0];
    const path = first?.path.join('.') || '(root)';
    throw new UserError(`${where} is not a valid manifest: ${path}: ${first?.message ?? 'invalid'}`, {
      hint: 'the snapshot is damaged or was written by an incompatible version; restore another id',
      exitCode: ExitCode.corrupt,
    });
  }
  return result.data;
}

export function totalDocuments(manifest: Manifest): number {
  return manifest.collections.reduce((sum, c) => sum + c.documents, 0);
}
