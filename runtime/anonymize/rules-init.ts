/**
 * `syrf-db rules init`: a complete rules skeleton from real data, so that
 * every collection and every path starts from an explicit decision. Each
 * leaf path is listed with the BSON types seen, how many documents have it,
 * and a proposed transform with the detector's reason. The proposal is on
 * the safe side: personal-looking values get a pseudonymizing transform,
 * other text is masked until someone decides to keep it, and only values
 * that cannot carry text (numbers, dates, ids, booleans) are proposed as
 * `keep`. The file never contains a value: a map keyed by data (emails,
 * ids) is listed once with `keys: hash`, never with its keys.
 */
import { open, rm } from 'node:fs/promises';
import { ExitCode, UserError } from '../errors.js';
import { ARRAY_ELEMENT, MalformedBsonError, walkRawDocument } from './bson-walk.js';
import { escapeFieldName } from './paths.js';
import { detectFieldName, detectValue, looksLikePersonOrHandle, looksLikePiiKey, type PiiKind } from './pii.js';
import type { CollectionSample } from './sample.js';

const TYPE_NAMES: Record<number, string> = {
  0x01: 'double',
  0x02: 'string',
  0x05: 'binary',
  0x06: 'undefined',
  0x07: 'objectId',
  0x08: 'bool',
  0x09: 'date',
  0x0a: 'null',
  0x0b: 'regex',
  0x0c: 'dbPointer',
  0x0d: 'javascript',
  0x0e: 'symbol',
  0x0f: 'javascriptWithScope',
  0x10: 'int',
  0x11: 'timestamp',
  0x12: 'long',
  0x13: 'decimal',
  0x7f: 'maxKey',
  0xff: 'minKey',
};
/** Types whose values hold no text a person could be identified by. */
const OPAQUE_TYPES = new Set(['double', 'objectId', 'bool', 'date', 'null', 'undefined', 'int', 'timestamp', 'long', 'maxKey', 'minKey']);
/** A subdocument with more distinct keys than this at one path is a map keyed by data. */
const MAP_KEYS = 50;
/**
 * Keys shaped like a C# property or a code identifier. Any other key under a
 * subdocument (spaces, @, dots, non-ASCII, login-like `jdoe42`) is taken to be
 * data, and its whole subdocument becomes one `keys: hash` map, so no such
 * key is written into the skeleton.
 */
const FIELD_LIKE_KEY = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const LOGIN_LIKE_KEY = /^[a-z]{2,}[0-9]+$/;
const ID_LIKE_KEY = /^(?:[0-9a-f]{24}|[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}|\d+)$/i;

interface PathInfo {
  types: Set<string>;
  documents: number;
  lastDocument: number;
  nameKinds: Set<PiiKind>;
  valueKinds: Set<PiiKind>;
  /** 16-byte UUID binaries only (opaque ids). */
  opaqueBinary: boolean;
  isMap: boolean;
  mapKeys?: number;
}

interface CollectionInfo {
  collection: string;
  type: string;
  documents: number;
  paths: Map<string, PathInfo>;
  /** Distinct keys seen under each parent path (capped), to spot maps. */
  keysUnder: Map<string, Set<string>>;
}

export function buildSkeleton(samples: Iterable<CollectionSample>, source: string): string {
  const infos = [...samples].filter((s) => !s.collection.startsWith('system.') || s.collection.startsWith('system.buckets.')).map(scan);
  const lines: string[] = [
    `# Anonymization rules skeleton written by \`syrf-db rules init\` from ${source}.`,
    '# Every path found is listed with its BSON types, the documents that have it and a proposed transform.',
    '# Review every line: keep research content with `{ transform: keep, reason: ... }`, pseudonymize the rest.',
    '# No value from the data is written here; maps keyed by data are listed once with `keys: hash`.',
    'version: 2',
    'unnamed_fields: refuse        # a path not listed here stops the run: new fields need a decision',
    'unnamed_collections: refuse   # so do new collections',
    '',
    'rules:',
  ];
  const views: string[] = [];
  for (const info of infos.sort((a, b) => a.collection.localeCompare(b.collection))) {
    if (looksLikePiiKey(info.collection)) {
      lines.push(`  # a collection whose name looks like personal data was left out; name it yourself`);
      continue;
    }
    if (info.type === 'view') {
      views.push(info.collection);
      continue;
    }
    lines.push(`  ${yamlKey(info.collection)}:${info.type === 'timeseries' || info.collection.startsWith('system.buckets.') ? '   # time-series: review the bucket layout' : ''}`);
    lines.push(`    # ${info.documents} document(s) scanned`);
    if (info.paths.size === 0) {
      lines.push('    fields: {}');
      continue;
    }
    lines.push('    fields:');
    for (const [path, p] of [...info.paths].sort(([a], [b]) => a.localeCompare(b))) {
      const [spec, why] = propose(path, p);
      const types = [...p.types].sort().join('|');
      lines.push(`      ${yamlKey(path)}: ${spec}   # ${types}; in ${p.documents}/${info.documents} docs; ${why}`);
    }
  }
  if (views.length > 0) {
    lines.push('', '# Views (their pipelines are copied as metadata; name them under rules to publish them):');
    for (const view of views) lines.push(`#  ${view}`);
  }
  lines.push('', 'exclusions: []', '');
  return lines.join('\n');
}

function scan(sample: CollectionSample): CollectionInfo {
  const info: CollectionInfo = { collection: sample.collection, type: sample.type, documents: 0, paths: new Map(), keysUnder: new Map() };
  // First pass: which parent paths are maps (keys that are data)?
  for (const bytes of sample.documents) {
    try {
      walkRawDocument(bytes, {
        leaf: () => undefined,
        key: (path, key) => {
          const parent = displayPath(path.slice(0, -1));
          let keys = info.keysUnder.get(parent);
          if (!keys) info.keysUnder.set(parent, (keys = new Set()));
          if (!FIELD_LIKE_KEY.test(key) || LOGIN_LIKE_KEY.test(key) || looksLikePiiKey(key) || ID_LIKE_KEY.test(key)) keys.add('\0data');
          if (keys.size <= MAP_KEYS) keys.add(key);
        },
      });
    } catch (error) {
      if (!(error instanceof MalformedBsonError)) throw error;
    }
  }
  const maps = new Set([...info.keysUnder].filter(([parent, keys]) => parent !== '' && (keys.has('\0data') || keys.size > MAP_KEYS)).map(([parent]) => parent));
  for (const bytes of sample.documents) {
    info.documents++;
    try {
      walkRawDocument(bytes, {
        leaf: (leaf) => {
          const mapAt = mapPrefix(leaf.path, maps);
          const path = mapAt ?? displayPath(leaf.path);
          let p = info.paths.get(path);
          if (!p) {
            p = { types: new Set(), documents: 0, lastDocument: 0, nameKinds: new Set(), valueKinds: new Set(), opaqueBinary: true, isMap: mapAt !== null, mapKeys: mapAt !== null ? [...(info.keysUnder.get(mapAt) ?? [])].filter((k) => k !== '\0data').length : 0 };
            info.paths.set(path, p);
          }
          if (p.lastDocument !== info.documents) {
            p.lastDocument = info.documents;
            p.documents++;
          }
          p.types.add(mapAt !== null ? 'object (map keyed by data)' : (TYPE_NAMES[leaf.type] ?? 'unknown'));
          if (leaf.type === 0x05 && leaf.text !== null) p.opaqueBinary = false;
          const last = leaf.path.filter((s) => s !== ARRAY_ELEMENT).at(-1) ?? '';
          if (mapAt === null) detectFieldName(last).forEach((k) => p.nameKinds.add(k));
          if (leaf.text !== null) detectValue(leaf.text).forEach((k) => p.valueKinds.add(k));
          if (leaf.text !== null && leaf.isString) { const shape = looksLikePersonOrHandle(leaf.text, last); if (shape) p.valueKinds.add(shape); }
        },
      });
    } catch (error) {
      if (!(error instanceof MalformedBsonError)) throw error;
    }
  }
  return info;
}

/** The display path of the outermost map containing this leaf, or null. */
function mapPrefix(path: readonly string[], maps: ReadonlySet<string>): string | null {
  for (let n = 1; n < path.length; n++) {
    const prefix = displayPath(path.slice(0, n));
    if (maps.has(prefix)) return prefix;
  }
  return null;
}

function displayPath(path: readonly string[]): string {
  let out = '';
  for (const segment of path) {
    if (segment === ARRAY_ELEMENT) out += '[]';
    else out += (out === '' ? '' : '.') + escapeFieldName(segment);
  }
  return out;
}

/** The proposed rule (YAML flow text) and why. */
function propose(path: string, p: PathInfo): [string, string] {
  const kinds = [...new Set([...p.nameKinds, ...p.valueKinds])].sort();
  const detected = kinds.length > 0 ? `looks like ${kinds.join(', ')}` : '';
  if (p.isMap) return ['{ transform: mask, keys: hash }', `a map keyed by data (${p.mapKeys ?? 0}${(p.mapKeys ?? 0) > MAP_KEYS ? '+' : ''} distinct keys seen, not shown)${detected ? `; values ${detected}` : ''}`];
  const last = path.split('.').at(-1)!.replace(/\[\]$/, '');
  // hash_email for fields that hold an address; free text that merely contains one is masked (keep + scrub is a human decision).
  if (p.nameKinds.has('email')) return ['hash_email', detected];
  if (p.valueKinds.has('email') || p.valueKinds.has('encoded-email')) return ['mask', `${detected}; free text? keep it with scrub: true if it is research content`];
  if (kinds.includes('auth-id')) return ['{ transform: hash, prefix: "anon|" }', detected];
  if (kinds.includes('person-name')) return ['sequential', detected];
  if (kinds.length > 0) return ['mask', detected];
  if (last === '_t') return ['{ transform: keep, reason: C# type discriminator }', 'no personal data detected'];
  const opaque = [...p.types].every((t) => OPAQUE_TYPES.has(t) || (t === 'binary' && p.opaqueBinary));
  if (opaque) return ['{ transform: keep, reason: "TODO: confirm (no text in these values)" }', 'no text, no personal data detected'];
  return ['mask', 'text; no personal data detected: keep it with a reason if it is research content'];
}

/** A YAML plain key when safe, otherwise single-quoted. */
function yamlKey(key: string): string {
  if (/^[A-Za-z_$][A-Za-z0-9_.[\]$\\-]*$/.test(key) && !key.includes(': ')) return key;
  return `'${key.replace(/'/g, "''")}'`;
}

/** Writes `text` to `path` only if nothing is there yet. */
export async function writeNewFile(path: string, text: string): Promise<void> {
  let handle;
  try {
    handle = await open(path, 'wx', 0o644);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UserError(code === 'EEXIST' ? `${path} already exists; rules init never overwrites a rules file` : `cannot create ${path}: ${(error as Error).message}`, {
      hint: code === 'EEXIST' ? 'pass --output with a new file name, or remove the file first' : 'pass --output to a writable location',
      exitCode: ExitCode.usage,
      cause: error,
    });
  }
  try {
    await handle.writeFile(text, 'utf8');
    await handle.close();
  } catch (error) {
    await handle.close().catch(() => undefined);
    await rm(path, { force: true });
    throw error;
  }
}
