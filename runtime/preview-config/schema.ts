/**
 * The shape of the `database:` mapping in a `#preview-config` block. Only
 * types and spellings are checked here; the rules that relate keys to each
 * other (and to the rules file) live in parse.ts, where they can quote the
 * line that breaks them.
 */
import { z } from 'zod';
import { isSnapshotId } from '../store/layout.js';

export const DATA_SOURCES = ['seed', 'snapshot', 'staging'] as const;
export type DataSource = (typeof DATA_SOURCES)[number];

export const LATEST = 'latest';
const DATABASE_KEYS = ['source', 'snapshotId', 'anonymize', 'collections'] as const;

export function isSnapshotIdOrLatest(value: string): boolean {
  return value === LATEST || isSnapshotId(value);
}

export const databaseSchema = z.strictObject(
  {
    source: z
      .enum(DATA_SOURCES, {
        error: (issue) => `source must be one of ${DATA_SOURCES.join(', ')}, not ${describe(issue.input)}`,
      })
      .optional(),
    snapshotId: z
      .string({ error: (issue) => `snapshotId must be "latest" or a snapshot id in quotes, not ${describe(issue.input)}` })
      .refine(isSnapshotIdOrLatest, {
        error: (issue) => `snapshotId must be "latest" or a snapshot id such as 2026-01-09 or 2026-01-09-daily, not ${describe(issue.input)}`,
      })
      .optional(),
    anonymize: z.boolean({ error: (issue) => `anonymize must be true or false, not ${describe(issue.input)}` }).optional(),
    collections: z
      .array(
        z.string({ error: (issue) => `each entry of collections must be a collection name, not ${describe(issue.input)}` }).min(1, {
          error: 'a collection name cannot be empty',
        }),
        { error: (issue) => `collections must be a list of collection names, not ${describe(issue.input)}` },
      )
      .optional(),
  },
  {
    error: (issue) => {
      if (issue.code === 'unrecognized_keys') {
        const keys = issue.keys.map((k) => `"${k}"`).join(', ');
        return `unknown key ${keys} under database; allowed keys: ${DATABASE_KEYS.join(', ')}`;
      }
      if (issue.code === 'invalid_type') return `database must be a mapping of ${DATABASE_KEYS.join(', ')}, not ${describe(issue.input)}`;
      return undefined;
    },
  },
);

export type DatabaseSection = z.infer<typeof databaseSchema>;

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return JSON.stringify(value);
  return `${typeof value} ${String(value)}`;
}
