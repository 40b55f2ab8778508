/**
 * What the rules do to real documents, field by field, for reviewers. The
 * output shows original values, so it is for the production side only.
 */
import { BSON, Binary, EJSON, type Document } from 'bson';
import { DECODE_OPTIONS, createAnonymizer } from './engine.js';
import { isExcluded, type Rules } from './rules.js';
import type { CollectionSample } from './sample.js';
import { isSubdocument } from './transforms/values.js';

export const PREVIEW_WARNING = 'rules preview is for production-side use only: it prints ORIGINAL production values; never paste its output into PRs, tickets or chat';

export interface PreviewChange {
  collection: string;
  /** The document's _id as Extended JSON. */
  id: string;
  path: string;
  before: string;
  after: string;
}

export interface PreviewCollection {
  collection: string;
  sampled: number;
  /** What happens to the collection as a whole. */
  treatment: 'excluded' | 'refused (no rule names it)' | 'dropped (no rule names it)' | 'anonymized';
  changes: PreviewChange[];
}

export function previewAnonymization(rules: Rules, key: Buffer, samples: Iterable<CollectionSample>): PreviewCollection[] {
  const anonymizer = createAnonymizer(rules, key);
  const out: PreviewCollection[] = [];
  for (const sample of samples) {
    if (isExcluded(rules, sample.collection)) {
      out.push({ collection: sample.collection, sampled: sample.documents.length, treatment: 'excluded', changes: [] });
      continue;
    }
    const doc = anonymizer.forCollection(sample.collection);
    if (!doc) {
      const treatment = rules.unnamedCollections === 'drop' ? 'dropped (no rule names it)' : 'refused (no rule names it)';
      out.push({ collection: sample.collection, sampled: sample.documents.length, treatment, changes: [] });
      continue;
    }
    const changes: PreviewChange[] = [];
    for (const bytes of sample.documents) {
      const original = BSON.deserialize(bytes, DECODE_OPTIONS);
      const copy = BSON.deserialize(doc.anonymize(bytes), DECODE_OPTIONS);
      const id = show(original._id);
      diff(original, copy, '', (path, before, after) => changes.push({ collection: sample.collection, id, path, before, after }));
    }
    out.push({ collection: sample.collection, sampled: sample.documents.length, treatment: 'anonymized', changes });
  }
  return out;
}

const ABSENT = '(removed)';

function diff(before: unknown, after: unknown, path: string, report: (path: string, before: string, after: string) => void): void {
  if (isSubdocument(before) && isSubdocument(after)) {
    for (const key of Object.keys(before)) {
      const child = path ? `${path}.${key}` : key;
      if (!(key in after)) report(child, show(before[key]), ABSENT);
      else diff(before[key], after[key], child, report);
    }
    return;
  }
  if (Array.isArray(before) && Array.isArray(after) && before.length === after.length) {
    before.forEach((item, i) => diff(item, after[i], `${path}[${i}]`, report));
    return;
  }
  const a = show(before);
  const b = show(after);
  if (a !== b) report(path, a, b);
}

function show(value: unknown): string {
  if (typeof value === 'string') return value;
  // UUIDs read better as hex than as base64 Extended JSON; subtype 3 is the C# driver's legacy layout.
  if (value instanceof Binary && (value.sub_type === 3 || value.sub_type === 4)) {
    return `${value.sub_type === 3 ? 'CSUUID' : 'UUID'}(${Buffer.from(value.buffer).toString('hex')})`;
  }
  if (value === undefined) return ABSENT;
  return EJSON.stringify(value as Document, { relaxed: true });
}

/** A plain two-column table, values cut to `width` characters. */
export function formatPreviewTable(collections: PreviewCollection[], width = 48): string {
  const lines: string[] = [];
  const cut = (s: string) => (s.length > width ? s.slice(0, width - 1) + '…' : s);
  for (const c of collections) {
    lines.push(`== ${c.collection}: ${c.treatment} (${c.sampled} sampled, ${c.changes.length} changed values)`);
    if (c.changes.length === 0) continue;
    const rows = c.changes.map((ch) => [cut(ch.id), cut(ch.path), cut(ch.before), cut(ch.after)] as const);
    const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i]!.length), ['_id', 'field', 'original', 'anonymized'][i]!.length));
    const fmt = (r: readonly string[], arrow = ' → ') =>
      `  ${r[0]!.padEnd(widths[0]!)}  ${r[1]!.padEnd(widths[1]!)}  ${r[2]!.padEnd(widths[2]!)}${arrow}${r[3]}`.trimEnd();
    lines.push(fmt(['_id', 'field', 'original', 'anonymized'], '   '));
    for (const r of rows) lines.push(fmt(r));
  }
  return lines.join('\n');
}
