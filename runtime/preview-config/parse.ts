/**
 * PR description → validated data-source policy. Pure: the caller reads
 * the description and, for a dated snapshot id, looks the snapshot up.
 * Every problem is reported with the line of the description it is on,
 * quoted, and all problems are reported at once; nothing is guessed.
 */
import { ExitCode, UserError } from '../errors.js';
import { loadYaml, YamlProblem, type KeyPath, type PositionIndex } from '../yaml/load.js';
import { bodyLines, CONFIG_MARKER, findConfigBlocks, findStrayMarkers, type ConfigBlock } from './fences.js';
import { databaseSchema, LATEST, type DatabaseSection, type DataSource } from './schema.js';

export interface PreviewConfig {
  source: DataSource;
  /** `latest` or a dated id for `snapshot`; null for the other sources. */
  snapshotId: string | null;
  /** Always true: previews are never production. */
  anonymize: boolean;
  /** Empty means every collection. */
  collections: string[];
  /** Top-level keys other than `database` (e.g. `web.featureFlags`), untouched. */
  passthrough: Record<string, unknown>;
  /** 1-based line of the block's opening fence; null when the description has no block. */
  blockLine: number | null;
  /** Things the author should know that do not stop the preview (e.g. a marker outside a code fence); absent when none. */
  notices?: string[];
}

export interface ParsePreviewConfigOptions {
  /** Collections the rules file knows; `collections` must be a subset. */
  knownCollections: readonly string[];
  /** Given, a dated `snapshotId` must exist. */
  snapshotExists?: (id: string) => boolean;
}

export const PREVIEW_CONFIG_HINT = `fix the ${CONFIG_MARKER} block in the PR description (the PR template shows the format) and edit the PR to run the workflow again`;

interface Problem {
  line: number;
  message: string;
}

export function parsePreviewConfig(body: string, options: ParsePreviewConfigOptions): PreviewConfig {
  return parseOnce(body, options).config;
}

/**
 * parsePreviewConfig with a lookup that has to wait (a store): the description
 * is parsed once, and a dated snapshot id is looked up only when everything
 * else in the block is valid; a missing snapshot is reported on its line.
 */
export async function parsePreviewConfigWithLookup(
  body: string,
  options: { knownCollections: readonly string[]; snapshotExists: (id: string) => Promise<boolean> },
): Promise<PreviewConfig> {
  const { config, rows, snapshotIdLine } = parseOnce(body, { knownCollections: options.knownCollections });
  const id = config.snapshotId;
  if (id !== null && id !== LATEST && snapshotIdLine !== null && !(await options.snapshotExists(id))) {
    throw configError(rows, [missingSnapshot(id, snapshotIdLine)]);
  }
  return config;
}

interface Parsed {
  config: PreviewConfig;
  rows: string[];
  /** Where `snapshotId` is written, when it is. */
  snapshotIdLine: number | null;
}

function parseOnce(body: string, options: ParsePreviewConfigOptions): Parsed {
  const rows = bodyLines(body);
  const done = (config: PreviewConfig, snapshotIdLine: number | null = null): Parsed => ({ config, rows, snapshotIdLine });
  const blocks = findConfigBlocks(body);
  if (blocks.length === 0) {
    const stray = findStrayMarkers(body);
    const notices = stray.map(
      (line) =>
        `PR description line ${line}: ${JSON.stringify(rows[line - 1] ?? '')} — ${CONFIG_MARKER} outside a code fence is ignored, so the source is seed; put the block between \`\`\` fences to use it`,
    );
    return done(notices.length > 0 ? { ...seedDefaults(null, {}), notices } : seedDefaults(null, {}));
  }
  if (blocks.length > 1) {
    throw configError(
      rows,
      blocks.map((block, i) => ({
        line: block.fenceLine,
        message: `${CONFIG_MARKER} block ${i + 1} of ${blocks.length}; the description may hold only one`,
      })),
    );
  }
  const block = blocks[0]!;
  if (!block.closed) {
    throw configError(rows, [{ line: block.fenceLine, message: `the ${CONFIG_MARKER} block that starts here is never closed with a matching fence` }]);
  }

  const text = block.lines.join('\n');
  const { value: document, positions } = loadBlock(text, block, rows);
  if (document === null || document === undefined) return done(seedDefaults(block.fenceLine, {}));
  if (typeof document !== 'object' || Array.isArray(document)) {
    const firstKey = block.lines.findIndex((line) => line.trim() !== '' && !line.trim().startsWith('#'));
    throw configError(rows, [
      {
        line: firstKey < 0 ? block.firstLine : block.firstLine + firstKey,
        message: `the ${CONFIG_MARKER} block must be a mapping (database:, web:, ...), not ${Array.isArray(document) ? 'a list' : 'a single value'}`,
      },
    ]);
  }

  const lineOf = (path: KeyPath) => block.firstLine + positions.lineOf(path) - 1;
  const { database, ...passthrough } = document as Record<string, unknown>;
  const problems = misspeltDatabaseKey(passthrough, database, lineOf);
  if (database === undefined || database === null) {
    if (problems.length > 0) throw configError(rows, problems);
    return done(seedDefaults(block.fenceLine, passthrough));
  }

  const parsed = databaseSchema.safeParse(database);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const path = issue.code === 'unrecognized_keys' && issue.keys[0] !== undefined ? [...issue.path, issue.keys[0]] : issue.path;
      problems.push({ line: lineOf(['database', ...(path as KeyPath)]), message: issue.message });
    }
    throw configError(rows, problems);
  }
  problems.push(...policyProblems(parsed.data, options, lineOf));
  if (problems.length > 0) throw configError(rows, problems.sort((a, b) => a.line - b.line));

  const source = parsed.data.source ?? 'seed';
  return done(
    {
      source,
      snapshotId: source === 'snapshot' ? (parsed.data.snapshotId ?? LATEST) : null,
      anonymize: true,
      collections: [...new Set(parsed.data.collections ?? [])],
      passthrough,
      blockLine: block.fenceLine,
    },
    parsed.data.snapshotId === undefined ? null : lineOf(['database', 'snapshotId']),
  );
}

function missingSnapshot(id: string, line: number): Problem {
  return { line, message: `snapshot "${id}" does not exist (list them with \`syrf-db list\`), or use snapshotId: latest` };
}

/** Rules that relate keys to each other, to the environment and to the rules file. */
function policyProblems(database: DatabaseSection, options: ParsePreviewConfigOptions, lineOf: (path: KeyPath) => number): Problem[] {
  const problems: Problem[] = [];
  const source = database.source ?? 'seed';
  if (database.anonymize === false) {
    problems.push({
      line: lineOf(['database', 'anonymize']),
      message:
        'anonymize: false is not allowed: preview databases are not production, and production data reaches them only anonymized (remove the line or set it to true)',
    });
  }
  if (database.snapshotId !== undefined && source !== 'snapshot') {
    problems.push({
      line: lineOf(['database', 'snapshotId']),
      message: `snapshotId applies only to source: snapshot, but source is ${source}${database.source === undefined ? ' (the default)' : ''}; set source: snapshot or remove snapshotId`,
    });
  }
  if (database.collections !== undefined && source !== 'snapshot') {
    problems.push({
      line: lineOf(['database', 'collections']),
      message: `collections applies only to source: snapshot (a ${source} preview gets the whole ${source === 'staging' ? 'staging database' : 'seed data'}); set source: snapshot or remove collections`,
    });
  }
  if (source === 'snapshot') {
    const known = new Set(options.knownCollections);
    (database.collections ?? []).forEach((name, i) => {
      if (!known.has(name)) {
        problems.push({
          line: lineOf(['database', 'collections', i]),
          message: `collection "${name}" is not one the anonymization rules know; known collections: ${[...known].sort().join(', ') || '(none)'}`,
        });
      }
    });
    const id = database.snapshotId;
    if (id !== undefined && id !== LATEST && options.snapshotExists && !options.snapshotExists(id)) problems.push(missingSnapshot(id, lineOf(['database', 'snapshotId'])));
  }
  return problems;
}

/** `Database:` or `databse:` would otherwise pass through silently and give seed data. */
function misspeltDatabaseKey(passthrough: Record<string, unknown>, database: unknown, lineOf: (path: KeyPath) => number): Problem[] {
  if (database !== undefined) return [];
  return Object.keys(passthrough)
    .filter((key) => key.toLowerCase() === 'database' || editDistance(key.toLowerCase(), 'database') === 1)
    .map((key) => ({ line: lineOf([key]), message: `"${key}" looks like a misspelling of "database" (keys are case-sensitive)` }));
}

/** A config block is a few lines; the limit keeps an edited PR description from tying up CI. */
export const MAX_CONFIG_BYTES = 64 * 1024;

function loadBlock(text: string, block: ConfigBlock, rows: string[]): { value: unknown; positions: PositionIndex } {
  try {
    // The core schema keeps `2026-01-09` a string instead of turning it into a Date.
    return loadYaml(text, { maxBytes: MAX_CONFIG_BYTES });
  } catch (error) {
    if (!(error instanceof YamlProblem)) throw error;
    const lineOf = (line: number) => block.firstLine + Math.min(line - 1, Math.max(0, block.lines.length - 1));
    throw configError(
      rows,
      error.issues.map((issue) => ({ line: lineOf(issue.line), message: `not valid YAML: ${issue.reason}` })),
    );
  }
}

function seedDefaults(blockLine: number | null, passthrough: Record<string, unknown>): PreviewConfig {
  return { source: 'seed', snapshotId: null, anonymize: true, collections: [], passthrough, blockLine };
}

function configError(rows: string[], problems: Problem[]): UserError {
  const lines = problems.map((p) => `PR description line ${p.line}: ${JSON.stringify(rows[p.line - 1] ?? '')} — ${p.message}`);
  const message = lines.length === 1 ? lines[0]! : `the ${CONFIG_MARKER} block has ${lines.length} problems:\n  ${lines.join('\n  ')}`;
  return new UserError(message, { hint: PREVIEW_CONFIG_HINT, exitCode: ExitCode.usage });
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}
