/**
 * Loading and validating the rules file. Every problem is reported with the
 * file, line and key path, and what would be allowed there, all at once.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ExitCode, UserError } from '../errors.js';
import { PATH_SYNTAX_HELP, normalizePath, parseFieldPath, type PathSegment } from './paths.js';
import { polishMessage, rulesFileSchema, type ParsedTransformSpec, type RulesFile } from './rules-schema.js';
import { detectFieldName } from './pii.js';
import { findTransform } from './transforms/registry.js';
import { loadYaml, YamlProblem, type KeyPath, type PositionIndex } from '../yaml/load.js';

export interface TransformSpec {
  transform: string;
  params: Record<string, unknown>;
  /** True for `keep` and `keep_subtree`: the value is published as it is (strings scrubbed unless `scrub` is false). */
  keepsValue: boolean;
  /** True for `keep_subtree`: every descendant is kept, not only the named path. */
  keepsSubtree: boolean;
  /** Kept strings are scrubbed of emails, phone numbers, profile URLs...; true unless the rule says `scrub: false`. */
  scrub: boolean;
  /** `hash`: keys of a subdocument at this path are replaced by keyed pseudonyms. */
  keys: 'hash' | null;
  line: number;
}

export interface FieldRule extends TransformSpec {
  /** As written, e.g. `Members[].Email` or `Contact\.Email`. */
  path: string;
  /** Literal field names, escapes resolved. */
  segments: PathSegment[];
  /** Without array markers (escapes kept), e.g. `Members.Email`. */
  normalized: string;
}

export interface CollectionRules {
  collection: string;
  fields: FieldRule[];
  /**
   * Applied to every leaf no rule covers (`default:` in the file, or mask for
   * `privacy_by_default: true`); null means the file's `unnamed_fields`.
   */
  default: TransformSpec | null;
  privacyByDefault: boolean;
}

/** What happens to a leaf path no rule names. */
export type UnnamedFields = 'mask' | 'refuse';
/** What happens to a collection no rule, exclusion or size limit names. */
export type UnnamedCollections = 'refuse' | 'drop';

export interface Follows {
  collection: string;
  field: string;
  references: string;
}

export interface SizeLimit {
  collection: string;
  maxDocuments: number | null;
  follows: Follows | null;
  line: number;
}

export interface Rules {
  fileName: string;
  sha256: string;
  version: 1 | 2;
  unnamedFields: UnnamedFields;
  unnamedCollections: UnnamedCollections;
  collections: ReadonlyMap<string, CollectionRules>;
  exclusions: readonly string[];
  sizeLimits: ReadonlyMap<string, SizeLimit>;
}

export const RULES_FORMAT_HINT = 'fix the listed lines; the format is described in docs/anonymization.md';

export async function loadRules(path: string): Promise<Rules> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new UserError(`cannot read rules file ${path}: ${(error as Error).message}`, {
      hint: 'pass --rules PATH to an existing anonymization-rules.yaml',
      exitCode: ExitCode.usage,
      cause: error,
    });
  }
  return parseRules(text, path);
}

/** A rules file is small; anything near this is a mistake or an attack on the parser. */
export const MAX_RULES_BYTES = 1024 * 1024;

export function parseRules(yamlText: string, fileName: string): Rules {
  let document: unknown;
  let positions: PositionIndex;
  try {
    ({ value: document, positions } = loadYaml(yamlText, { maxBytes: MAX_RULES_BYTES }));
  } catch (error) {
    if (!(error instanceof YamlProblem)) throw error;
    const lines = error.issues.map((issue) => `${fileName}:${issue.line}: not valid YAML: ${issue.reason}`);
    throw new UserError(lines.length === 1 ? lines[0]! : `${fileName} is not valid YAML:\n  ${lines.join('\n  ')}`, { hint: RULES_FORMAT_HINT, exitCode: ExitCode.usage });
  }
  if (document === undefined || document === null) {
    throw new UserError(`${fileName}:1: the rules file is empty`, { hint: RULES_FORMAT_HINT, exitCode: ExitCode.usage });
  }
  const parsed = rulesFileSchema.safeParse(document);
  if (!parsed.success) {
    throw rulesError(
      fileName,
      positions,
      parsed.error.issues.map((issue) => ({
        // An unknown key is best located by its own line.
        path: (issue.code === 'unrecognized_keys' && issue.keys[0] !== undefined ? [...issue.path, issue.keys[0]] : issue.path) as KeyPath,
        message: polishMessage(issue.message),
      })),
    );
  }
  const problems: Problem[] = [];
  const rules = buildRules(parsed.data, fileName, rulesSha256(yamlText), positions, problems);
  if (problems.length > 0) throw rulesError(fileName, positions, problems);
  return rules;
}

export function rulesSha256(yamlText: string): string {
  return createHash('sha256').update(yamlText, 'utf8').digest('hex');
}

/** Collections the rules name anywhere (fields, defaults, size limits, follows); exclusions are not included. */
export function knownCollections(rules: Rules): string[] {
  const names = new Set<string>([...rules.collections.keys(), ...rules.sizeLimits.keys()]);
  for (const limit of rules.sizeLimits.values()) if (limit.follows) names.add(limit.follows.collection);
  return [...names].sort();
}

export const BUCKETS_PREFIX = 'system.buckets.';

/**
 * Listed in `exclusions` (a trailing `*` matches any suffix), or a `system.*`
 * collection, which is never copied. Time-series buckets
 * (`system.buckets.X`) are the exception: they are data, copied only when a
 * rule names them, and excluded with their collection X.
 */
export function isExcluded(rules: Rules, collection: string): boolean {
  if (collection.startsWith(BUCKETS_PREFIX)) {
    const owner = collection.slice(BUCKETS_PREFIX.length);
    return rules.exclusions.some((pattern) => matchesExclusion(pattern, owner) || matchesExclusion(pattern, collection));
  }
  if (collection.startsWith('system.')) return true;
  return rules.exclusions.some((pattern) => matchesExclusion(pattern, collection));
}

/** Named under `rules` or `size_limits`: the collection is copied, every field through its rules or the default. */
export function isNamedCollection(rules: Rules, collection: string): boolean {
  return rules.collections.has(collection) || rules.sizeLimits.has(collection);
}

function matchesExclusion(pattern: string, collection: string): boolean {
  return pattern.endsWith('*') ? collection.startsWith(pattern.slice(0, -1)) : pattern === collection;
}

interface Problem {
  path: KeyPath;
  message: string;
}

function buildRules(file: RulesFile, fileName: string, sha256: string, positions: PositionIndex, problems: Problem[]): Rules {
  const exclusions = file.exclusions ?? [];
  const excluded = (name: string) => (name.startsWith('system.') && !name.startsWith(BUCKETS_PREFIX)) || exclusions.some((p) => matchesExclusion(p, name));

  const collections = new Map<string, CollectionRules>();
  for (const [collection, entry] of Object.entries(file.rules ?? {})) {
    const at: KeyPath = ['rules', collection];
    checkCollectionName(collection, at, problems);
    if (excluded(collection)) {
      problems.push({ path: at, message: `collection "${collection}" is excluded, so its rules would never apply; remove them or the exclusion` });
    }
    const fields: FieldRule[] = [];
    for (const [path, spec] of Object.entries(entry?.fields ?? {})) {
      const fieldAt = [...at, 'fields', path];
      const segments = parseFieldPath(path);
      if (!segments) {
        problems.push({ path: fieldAt, message: `"${path}" is not a field path; ${PATH_SYNTAX_HELP}` });
        continue;
      }
      const rule: FieldRule = { ...toSpec(spec, positions.lineOf(fieldAt)), path, segments, normalized: normalizePath(path) };
      checkUniqueness(rule, fieldAt, problems);
      fields.push(rule);
    }
    checkOverlaps(fields, at, problems);
    if (entry?.default && entry.privacy_by_default) {
      problems.push({ path: [...at, 'privacy_by_default'], message: 'give either `default` or `privacy_by_default: true`, not both (privacy_by_default means default: mask)' });
    }
    const privacyByDefault = entry?.privacy_by_default === true;
    const defaultSpec = entry?.default
      ? toSpec(entry.default, positions.lineOf([...at, 'default']))
      : privacyByDefault
        ? { ...toSpec({ transform: 'mask', params: {} }, 0), line: positions.lineOf([...at, 'privacy_by_default']) }
        : null;
    collections.set(collection, { collection, fields, default: defaultSpec, privacyByDefault });
  }

  const sizeLimits = new Map<string, SizeLimit>();
  for (const [collection, entry] of Object.entries(file.size_limits ?? {})) {
    const at: KeyPath = ['size_limits', collection];
    checkCollectionName(collection, at, problems);
    if (excluded(collection)) problems.push({ path: at, message: `collection "${collection}" is excluded, so a size limit cannot apply` });
    if (entry.max_documents === undefined && entry.follows === undefined) {
      problems.push({ path: at, message: 'give max_documents, follows, or both' });
    }
    if (entry.follows) {
      const f = entry.follows;
      if (f.collection === collection) problems.push({ path: [...at, 'follows', 'collection'], message: 'a collection cannot follow itself' });
      if (excluded(f.collection)) problems.push({ path: [...at, 'follows', 'collection'], message: `"${f.collection}" is excluded, so there is nothing to follow` });
      for (const key of ['field', 'references'] as const) {
        if (!parseFieldPath(f[key])) problems.push({ path: [...at, 'follows', key], message: `"${f[key]}" is not a field path; ${PATH_SYNTAX_HELP}` });
      }
    }
    sizeLimits.set(collection, {
      collection,
      maxDocuments: entry.max_documents ?? null,
      follows: entry.follows ? { collection: entry.follows.collection, field: entry.follows.field, references: entry.follows.references } : null,
      line: positions.lineOf(at),
    });
  }
  checkFollowCycles(sizeLimits, problems);

  return {
    fileName,
    sha256,
    version: file.version ?? 1,
    unnamedFields: file.unnamed_fields ?? 'mask',
    unnamedCollections: file.unnamed_collections ?? 'refuse',
    collections,
    exclusions,
    sizeLimits,
  };
}

function toSpec(spec: ParsedTransformSpec, line: number): TransformSpec {
  const definition = findTransform(spec.transform);
  const keepsValue = definition?.keepsValue === true;
  return {
    transform: spec.transform,
    params: spec.params,
    keepsValue,
    keepsSubtree: definition?.keepsSubtree === true,
    scrub: keepsValue && spec.scrub !== false,
    keys: spec.keys ?? null,
    line,
  };
}

/** Transforms whose numbered or readable output is no address and would merge people; email fields need hash_email. */
const NOT_FOR_EMAILS = new Set(['sequential', 'sequential_suffix', 'fake_name']);

function checkUniqueness(rule: FieldRule, at: KeyPath, problems: Problem[]): void {
  const last = rule.segments[rule.segments.length - 1]?.name ?? '';
  if (NOT_FOR_EMAILS.has(rule.transform) && detectFieldName(last).includes('email')) {
    problems.push({
      path: [...at, 'transform'],
      message: `"${rule.path}" holds email addresses; ${rule.transform} does not give each address its own pseudonym address; use hash_email`,
    });
  }
}

function checkCollectionName(name: string, at: KeyPath, problems: Problem[]): void {
  if (name === '' || name.includes('$') || name.includes('\0')) {
    problems.push({ path: at, message: `"${name}" is not a collection name (no "$", not empty)` });
  }
}

/** A rule on `Contact` and another on `Contact.Email` would fight; only a keep (or keep_subtree) on the outer one may be refined. */
function checkOverlaps(fields: FieldRule[], at: KeyPath, problems: Problem[]): void {
  // Literal names may contain dots, so paths are compared segment by segment.
  const keyOf = (names: readonly string[]) => names.join('\0');
  const byPath = new Map<string, FieldRule>();
  for (const field of fields) {
    const key = keyOf(field.segments.map((s) => s.name));
    const existing = byPath.get(key);
    if (existing) {
      problems.push({ path: [...at, 'fields', field.path], message: `"${field.path}" names the same field as "${existing.path}"` });
    }
    byPath.set(key, field);
  }
  for (const field of fields) {
    const names = field.segments.map((s) => s.name);
    for (let n = 1; n < names.length; n++) {
      const ancestor = byPath.get(keyOf(names.slice(0, n)));
      if (ancestor && !ancestor.keepsValue) {
        problems.push({
          path: [...at, 'fields', field.path],
          message: `"${field.path}" is inside "${ancestor.path}", which is already transformed as a whole by ${ancestor.transform}; only a keep or keep_subtree rule can be refined by rules below it`,
        });
      }
    }
  }
}

function checkFollowCycles(limits: ReadonlyMap<string, SizeLimit>, problems: Problem[]): void {
  for (const start of limits.keys()) {
    const seen = [start];
    let current = limits.get(start)?.follows?.collection;
    while (current !== undefined) {
      if (current === start) {
        if (seen.length > 1) problems.push({ path: ['size_limits', start, 'follows'], message: `follows form a cycle: ${[...seen, start].join(' → ')}` });
        break;
      }
      if (seen.includes(current)) break;
      seen.push(current);
      current = limits.get(current)?.follows?.collection;
    }
  }
}

function rulesError(fileName: string, positions: PositionIndex, problems: Problem[]): UserError {
  const lines = problems
    .map((p) => ({ line: positions.lineOf(p.path), text: `${formatKeyPath(p.path)}: ${p.message}` }))
    .sort((a, b) => a.line - b.line)
    .map((p) => `${fileName}:${p.line}: ${p.text}`);
  const unique = [...new Set(lines)];
  const message = unique.length === 1 ? unique[0]! : `${fileName} has ${unique.length} problems:\n  ${unique.join('\n  ')}`;
  return new UserError(message, { hint: RULES_FORMAT_HINT, exitCode: ExitCode.usage });
}

export function formatKeyPath(path: KeyPath): string {
  if (path.length === 0) return '(top level)';
  return path
    .map((part, i) => (typeof part === 'number' ? `[${part}]` : /^[A-Za-z0-9_]+$/.test(part) ? (i === 0 ? part : `.${part}`) : `["${part}"]`))
    .join('');
}
