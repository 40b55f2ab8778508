/**
 * The fail-closed check: which fields of sampled documents look like
 * personal data that no rule transforms? `rules check` prints the answer and
 * `snapshot --anonymize` refuses to run while there is any. A field marked
 * `keep` with a reason is an accepted decision, not a finding.
 */
import { ExitCode, UserError } from '../errors.js';
import { Double, Int32, Long, type Document } from 'bson';
import { isExcluded, type CollectionRules, type FieldRule, type Rules } from './rules.js';
import { detectFieldName, detectValue, type PiiKind } from './pii.js';
import { isSubdocument, scalarText } from './transforms/values.js';

export interface CollectionSample {
  collection: string;
  /** Decoded documents (engine.DECODE_OPTIONS or the driver's defaults). */
  documents: Document[];
}

export interface CoverageFinding {
  collection: string;
  /** Leaf path with array markers, e.g. `Members[].Email`. */
  path: string;
  kinds: PiiKind[];
  /** Sampled documents in which the field looked like PII. */
  documents: number;
  sampled: number;
}

export interface AcceptedField {
  collection: string;
  path: string;
  kinds: PiiKind[];
  rulePath: string;
  reason: string;
}

export interface UnmatchedRule {
  collection: string;
  path: string;
  line: number;
}

export interface CoverageReport {
  findings: CoverageFinding[];
  accepted: AcceptedField[];
  /** Field rules that matched nothing in the sample: typos, or fields that no longer exist. */
  unmatchedRules: UnmatchedRule[];
  collections: { collection: string; sampled: number; excluded: boolean }[];
}

type Coverage = { kind: 'covered' } | { kind: 'kept'; rule: FieldRule } | { kind: 'uncovered' };

export function checkCoverage(rules: Rules, samples: Iterable<CollectionSample>): CoverageReport {
  const report: CoverageReport = { findings: [], accepted: [], unmatchedRules: [], collections: [] };
  for (const sample of samples) {
    const excluded = isExcluded(rules, sample.collection);
    report.collections.push({ collection: sample.collection, sampled: sample.documents.length, excluded });
    if (excluded) continue;
    const entry = rules.collections.get(sample.collection);
    const hits = new Map<string, { kinds: Set<PiiKind>; documents: number }>();
    const seenPaths = new Set<string>();
    for (const doc of sample.documents) {
      const inThisDoc = new Map<string, Set<PiiKind>>();
      walkLeaves(doc, '', (path, name, value) => {
        seenPaths.add(path);
        const kinds = leafKinds(name, value);
        if (kinds.length === 0) return;
        const set = inThisDoc.get(path) ?? new Set<PiiKind>();
        kinds.forEach((k) => set.add(k));
        inThisDoc.set(path, set);
      });
      for (const [path, kinds] of inThisDoc) {
        const hit = hits.get(path) ?? { kinds: new Set<PiiKind>(), documents: 0 };
        kinds.forEach((k) => hit.kinds.add(k));
        hit.documents++;
        hits.set(path, hit);
      }
    }
    for (const [path, hit] of [...hits].sort(([a], [b]) => a.localeCompare(b))) {
      const kinds = [...hit.kinds].sort();
      const coverage = coverageOf(entry, path);
      if (coverage.kind === 'kept') {
        report.accepted.push({ collection: sample.collection, path, kinds, rulePath: coverage.rule.path, reason: String(coverage.rule.params.reason ?? '') });
      } else if (coverage.kind === 'uncovered') {
        report.findings.push({ collection: sample.collection, path, kinds, documents: hit.documents, sampled: sample.documents.length });
      }
    }
    if (entry && sample.documents.length > 0) {
      const normalizedSeen = [...seenPaths].map(stripArrays);
      for (const rule of entry.fields) {
        const prefix = rule.normalized + '.';
        if (!normalizedSeen.some((p) => p === rule.normalized || p.startsWith(prefix))) {
          report.unmatchedRules.push({ collection: sample.collection, path: rule.path, line: rule.line });
        }
      }
    }
  }
  return report;
}

/** Mirrors the engine: the deepest rule at or above the path decides; below it a rule's transform also reaches scalars. */
function coverageOf(entry: CollectionRules | undefined, path: string): Coverage {
  const normalized = stripArrays(path);
  if (!entry) return { kind: 'uncovered' };
  let best: FieldRule | null = null;
  for (const rule of entry.fields) {
    if (normalized === rule.normalized || normalized.startsWith(rule.normalized + '.')) {
      if (!best || rule.normalized.length > best.normalized.length) best = rule;
    }
  }
  if (best) return best.keepsValue ? { kind: 'kept', rule: best } : { kind: 'covered' };
  // A scalar where rules name subfields is transformed by the rule beneath it.
  if (entry.fields.some((rule) => !rule.keepsValue && rule.normalized.startsWith(normalized + '.'))) return { kind: 'covered' };
  // The default never touches `_id` fields (at any depth): they are the keys references use.
  if (entry.default && !entry.default.keepsValue && !normalized.split('.').includes('_id')) return { kind: 'covered' };
  return { kind: 'uncovered' };
}

function leafKinds(name: string, value: unknown): PiiKind[] {
  if (value === null || value === undefined || typeof value === 'boolean') return [];
  const kinds = new Set<PiiKind>();
  if (typeof value === 'string') {
    if (value.trim() === '') return [];
    detectValue(value).forEach((k) => kinds.add(k));
  }
  const isText = typeof value === 'string' || typeof value === 'number' || value instanceof Int32 || value instanceof Double || value instanceof Long;
  if (isText) detectFieldName(name).forEach((k) => kinds.add(k));
  if (typeof value !== 'string' && isText) detectValue(scalarText(value)).forEach((k) => kinds.add(k));
  return [...kinds];
}

function walkLeaves(value: unknown, path: string, visit: (path: string, name: string, value: unknown) => void, name = ''): void {
  if (Array.isArray(value)) {
    for (const item of value) walkLeaves(item, `${path}[]`, visit, name);
    return;
  }
  if (isSubdocument(value)) {
    for (const [key, item] of Object.entries(value)) walkLeaves(item, path ? `${path}.${key}` : key, visit, key);
    return;
  }
  visit(path, name, value);
}

function stripArrays(path: string): string {
  return path.replace(/\[\]/g, '');
}

/** Fail closed: any uncovered PII-looking field stops the run, naming each field (never its values). */
export function refuseUncovered(report: CoverageReport, rulesFile: string): void {
  if (report.findings.length === 0) return;
  const fields = report.findings.map((f) => `${f.collection}.${f.path} (${f.kinds.join(', ')})`).join(', ');
  throw new UserError(`${report.findings.length} field(s) look like personal data but no rule covers them: ${fields}`, {
    hint: `add a transform for each in ${rulesFile}, or mark it { transform: keep, reason: "..." } if it may be published as it is`,
    exitCode: ExitCode.findings,
  });
}
