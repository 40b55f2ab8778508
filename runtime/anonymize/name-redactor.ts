/**
 * Names that come from the data (field keys, collection names) can be
 * personal: a map keyed by emails, a collection named after a person. Reports,
 * errors, logs and the manifest print a name only when the rules themselves
 * contain it, and a numbered placeholder otherwise.
 */
import { ARRAY_ELEMENT } from './bson-walk.js';
import { escapeFieldName } from './paths.js';
import { looksLikePiiKey } from './pii.js';
import { BUCKETS_PREFIX, type Rules } from './rules.js';

const REDACTED = '<redacted>';

/** The time-series collection a `system.buckets.` collection belongs to; any other name itself. */
export function ownerOf(collection: string): string {
  return collection.startsWith(BUCKETS_PREFIX) ? collection.slice(BUCKETS_PREFIX.length) : collection;
}

/** `Members[].Email`, with literal dots escaped and PII-looking names redacted. */
export function displayPath(path: readonly string[]): string {
  let out = '';
  for (const segment of path) {
    if (segment === ARRAY_ELEMENT) out += '[]';
    else out += (out === '' ? '' : '.') + redactSegment(segment);
  }
  return out;
}

export function redactSegment(name: string): string {
  return looksLikePiiKey(name) ? REDACTED : escapeFieldName(name);
}

/**
 * Reports print only names the rules themselves contain. A field or
 * collection name no rule names comes from the data and may be personal
 * (a map keyed by email, a collection named after a person); no detector can
 * be complete, so such names are shown as `<unnamed key #n>` /
 * `<unnamed collection #n>`, numbered in order of first sight within one report.
 */
export class NameRedactor {
  private readonly segments = new Set<string>(['_id']);
  private readonly collections = new Set<string>();
  private readonly keys = new Map<string, number>();
  private readonly unnamedCollections = new Map<string, number>();

  constructor(
    rules: Rules,
    private readonly showUnnamed = false,
  ) {
    for (const [collection, entry] of rules.collections) {
      this.collections.add(collection);
      for (const rule of entry.fields) for (const segment of rule.segments) this.segments.add(segment.name);
    }
    for (const collection of rules.sizeLimits.keys()) this.collections.add(collection);
    for (const collection of rules.exclusions) this.collections.add(collection);
  }

  segment(name: string): string {
    if (this.segments.has(name)) return escapeFieldName(name);
    if (this.showUnnamed) return redactSegment(name);
    return `<unnamed key #${numberFor(this.keys, name)}>`;
  }

  collection(name: string): string {
    const owner = ownerOf(name);
    if (this.collections.has(name)) return name;
    if (this.collections.has(owner)) return name.startsWith(BUCKETS_PREFIX) ? BUCKETS_PREFIX + owner : owner;
    if (this.showUnnamed && !looksLikePiiKey(name)) return name;
    return `<unnamed collection #${numberFor(this.unnamedCollections, name)}>`;
  }

  path(path: readonly string[]): string {
    let out = '';
    for (const segment of path) {
      if (segment === ARRAY_ELEMENT) out += '[]';
      else out += (out === '' ? '' : '.') + this.segment(segment);
    }
    return out;
  }
}

function numberFor(map: Map<string, number>, name: string): number {
  let n = map.get(name);
  if (n === undefined) map.set(name, (n = map.size + 1));
  return n;
}
