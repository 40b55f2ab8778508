/**
 * The policy as GitHub Actions step outputs, and as one line for humans.
 * Outputs use the `name<<DELIMITER` form with a random delimiter: values come
 * from an untrusted PR description, and a plain `name=value` line could be
 * broken by a newline into extra outputs.
 */
import { randomUUID } from 'node:crypto';
import { appendFile } from 'node:fs/promises';
import type { PreviewConfig } from './parse.js';

export interface PreviewConfigOutputs {
  db_source: string;
  /** Empty unless the source is `snapshot`. */
  snapshot_id: string;
  anonymize: string;
  /** Compact JSON array; `[]` means every collection. */
  collections: string;
  /** The block's other top-level keys as compact JSON, for later steps. */
  passthrough: string;
}

export function previewConfigOutputs(config: PreviewConfig): PreviewConfigOutputs {
  return {
    db_source: config.source,
    snapshot_id: config.snapshotId ?? '',
    anonymize: String(config.anonymize),
    collections: JSON.stringify(config.collections),
    passthrough: JSON.stringify(config.passthrough),
  };
}

/** `$GITHUB_OUTPUT` file content for `outputs`. */
export function formatGithubOutputs(outputs: Record<string, string>, newDelimiter: () => string = () => `ghadelimiter_${randomUUID()}`): string {
  return Object.entries(outputs)
    .map(([name, value]) => {
      let delimiter = newDelimiter();
      while (value.includes(delimiter)) delimiter = newDelimiter();
      return `${name}<<${delimiter}\n${value}\n${delimiter}\n`;
    })
    .join('');
}

/** Appends, as GitHub expects: earlier steps' outputs in the same file stay. */
export async function appendGithubOutputs(file: string, outputs: Record<string, string>): Promise<void> {
  await appendFile(file, formatGithubOutputs(outputs), 'utf8');
}

export function summarizePreviewConfig(config: PreviewConfig): string {
  const where = config.blockLine === null ? 'no #preview-config block in the PR description' : `#preview-config at PR description line ${config.blockLine}`;
  const parts = [`database source: ${config.source}`];
  if (config.source === 'seed') parts.push("the app's seeder fills the database");
  if (config.source === 'snapshot') {
    parts.push(`snapshot ${config.snapshotId ?? 'latest'}`);
    parts.push(config.collections.length > 0 ? `collections ${config.collections.join(', ')}` : 'all collections');
    parts.push('anonymized');
  }
  if (config.source === 'staging') parts.push('copy of syrf_staging');
  const extra = Object.keys(config.passthrough);
  if (extra.length > 0) parts.push(`other settings: ${extra.join(', ')}`);
  return [`${parts.join('; ')} (${where})`, ...(config.notices ?? []).map((notice) => `notice: ${notice}`)].join('\n');
}
