/**
 * The coverage check: before anonymized data is published, does every path
 * of every scanned document get an explicit decision that does not publish
 * personal data? It reads documents byte by byte (bson-walk.ts), asks the
 * engine how it will treat each leaf (engine.decideLeaf), so the check and
 * the engine cannot disagree, and reports:
 *  - collections no rule names (the engine would refuse or drop them);
 *  - leaves that fall to `unnamed_fields: refuse`;
 *  - kept values that look like personal data and that scrubbing does not
 *    rewrite (non-string values, `scrub: false`, kinds scrubbing lacks);
 *  - fields kept only because an ancestor is `keep_subtree` (or the default
 *    keeps) whose names look like personal data: they need their own decision;
 *  - in strict mode, rules that match nothing (a typo, a field that is gone).
 * Every descendant `keep_subtree` keeps is listed, so new ones are visible.
 *
 * No value ever enters a report: findings carry paths and kinds only, and a
 * path segment that itself looks like personal data (an email used as a map
 * key) is redacted.
 */
import { ExitCode, UserError } from '../errors.js';
import { NameRedactor, ownerOf, redactSegment } from './name-redactor.js';
import { ARRAY_ELEMENT, MalformedBsonError, PathTree, walkRawDocument, type PathNode, type RawLeaf, type RawVisitor } from './bson-walk.js';
import { bucketLogicalNames, decideKeys, decideLeaf, type LeafDecision } from './engine.js';
import { detectFieldName, detectValue, findPiiSpans, looksLikePersonOrHandle, type PiiKind } from './pii.js';
import { BUCKETS_PREFIX, isExcluded, isNamedCollection, type CollectionRules, type Rules } from './rules.js';

export type FindingProblem =
  /** A collection no rule names, under `unnamed_collections: refuse`. */
  | 'unnamed-collection'
  /** A leaf no rule names, under `unnamed_fields: refuse`. */
  | 'refused-field'
  /** A kept value that looks like personal data and that scrubbing would not rewrite. */
  | 'kept-pii-value'
  /** A field kept only by an ancestor's keep_subtree (or a keeping default) whose name looks like personal data. */
  | 'unreviewed-pii-field'
  /** Strict mode: a field rule no scanned document has. */
  | 'unmatched-rule'
  /** Strict mode: rules for a collection that is not in the data. */
  | 'unmatched-collection'
  | 'unreadable-document';

export interface CoverageFinding {
  collection: string;
  /** Display path (`Members[].Email`), PII-looking segments redacted; '' for whole collections. */
  path: string;
  problem: FindingProblem;
  kinds: PiiKind[];
  /** Scanned documents with this finding (0 for rule and collection findings). */
  documents: number;
  /** Rules file line, for unmatched rules. */
  line?: number;
}

export interface AcceptedField {
  collection: string;
  path: string;
  kinds: PiiKind[];
  rulePath: string;
  reason: string;
  /** The value looked like personal data and scrubbing rewrites it. */
  scrubbed: boolean;
}

export interface SubtreePath {
  collection: string;
  path: string;
  /** The keep_subtree rule that keeps it, or `(default)`. */
  rulePath: string;
}

export interface CollectionSummary {
  collection: string;
  /** Documents in the input (when known) and documents the check read. */
  total: number;
  scanned: number;
  excluded: boolean;
  type: string;
}

export interface CoverageReport {
  findings: CoverageFinding[];
  accepted: AcceptedField[];
  keptBySubtree: SubtreePath[];
  collections: CollectionSummary[];
  /** Problems that do not stop a run (e.g. a rule unmatched in a partial sample). Never values. */
  warnings: string[];
}

export interface CheckOptions {
  /** Unmatched rules and rules for absent collections are findings (default true). */
  strict?: boolean;
  /** Only these collections are published (the others are dropped, so not checked). */
  collections?: readonly string[];
  /**
   * Print field and collection names the rules do not name (still hiding those
   * that look like personal data). Only `rules check --show-unnamed-names`, run
   * by an operator on a trusted terminal, sets it; logs and errors never do.
   */
  showUnnamedNames?: boolean;
}

/** Distinct display paths remembered per collection; beyond it only findings are added. */
const MAX_PATHS = 20_000;

interface PathState {
  kinds: Set<PiiKind>;
  documents: number;
  lastDocument: number;
}

interface CollectionState {
  summary: CollectionSummary;
  entry: CollectionRules | null;
  named: boolean;
  /** Literal name paths (arrays left out, joined by \0) of every key seen, for unmatched rules. */
  seen: Set<string>;
  decisions: Map<string, LeafDecision>;
  findings: Map<string, CoverageFinding & { state: PathState }>;
  accepted: Map<string, AcceptedField>;
  subtree: Map<string, SubtreePath>;
  /** The collection's distinct paths, each with its PathMemo. */
  tree: PathTree;
  /** The document being read (1-based), for per-document finding counts. */
  documentIndex: number;
  visitor: RawVisitor;
}

interface KeepHow {
  explicit: boolean;
  rulePath: string;
  reason: string;
  scrub: boolean;
}

/** What the check works out once per distinct path rather than once per leaf. */
interface PathMemo {
  /** The path's names were added to `seen`. */
  seen: boolean;
  decision?: LeafDecision;
  /** The engine refuses a key on this path (engine.decideKeys). */
  refusedKey?: boolean;
  names?: string[];
  display?: string;
  /** detectFieldName of the last name. */
  fieldKinds?: PiiKind[];
  how?: KeepHow | null;
  /** Listed in `subtree` (or the list was full when first seen). */
  subtreeListed?: boolean;
  /** The key of this path's entry in `accepted`. */
  acceptedKey?: string;
}

const NO_KINDS: ReadonlySet<PiiKind> = new Set();

function memoOf(node: PathNode): PathMemo {
  let memo = node.memo as PathMemo | undefined;
  if (memo === undefined) node.memo = memo = { seen: false };
  return memo;
}

export class CoverageChecker {
  private readonly strict: boolean;
  private readonly wanted: Set<string> | null;
  private readonly states = new Map<string, CollectionState>();
  private readonly topFindings: CoverageFinding[] = [];
  private readonly names: NameRedactor;

  constructor(
    private readonly rules: Rules,
    options: CheckOptions = {},
  ) {
    this.names = new NameRedactor(rules, options.showUnnamedNames === true);
    this.strict = options.strict ?? true;
    this.wanted = options.collections ? new Set(options.collections) : null;
  }

  /** False for collections that are never published (excluded, `system.*`, filtered out): they are not read at all. */
  wants(collection: string): boolean {
    if (isExcluded(this.rules, collection)) return false;
    if (collection.startsWith('system.') && !collection.startsWith(BUCKETS_PREFIX)) return false;
    if (this.wanted && !this.wanted.has(collection) && !this.wanted.has(ownerOf(collection))) return false;
    return true;
  }

  /** A collection (or view) the input holds. */
  namespace(collection: string, type = ''): void {
    if (this.states.has(collection)) return;
    const excluded = !this.wants(collection);
    const named = isNamedCollection(this.rules, collection) || (collection.startsWith(BUCKETS_PREFIX) && isNamedCollection(this.rules, ownerOf(collection)));
    const state: CollectionState = {
      summary: { collection: this.names.collection(collection), total: 0, scanned: 0, excluded, type },
      entry: this.rules.collections.get(collection) ?? (collection.startsWith(BUCKETS_PREFIX) ? (this.rules.collections.get(ownerOf(collection)) ?? null) : null),
      named,
      seen: new Set(),
      decisions: new Map(),
      findings: new Map(),
      accepted: new Map(),
      subtree: new Map(),
      tree: new PathTree(),
      documentIndex: 0,
      visitor: { leaf: () => undefined },
    };
    state.visitor = {
      key: (path, _key, node) => {
        const memo = memoOf(node);
        if (memo.seen) return;
        memo.seen = true;
        if (state.seen.size >= MAX_PATHS * 4) return;
        const names = namesOf(path);
        // Bucket paths are listed as the time-series collection's own paths (what its rules name).
        const logical = isBucketsOfNamed(state) ? bucketLogicalNames(names) : names;
        if (typeof logical === 'object' && logical !== null) state.seen.add(logical.join('\0'));
      },
      leaf: (leaf) => this.leaf(state, leaf, state.documentIndex),
    };
    this.states.set(collection, state);
    if (excluded || named) return;
    if (this.rules.unnamedCollections === 'refuse') {
      this.topFindings.push({ collection: this.names.collection(collection), path: '', problem: 'unnamed-collection', kinds: [], documents: 0 });
    }
  }

  /** Counts documents the input holds that the check did not read (sampling). */
  counted(collection: string, documents: number): void {
    this.stateOf(collection).summary.total += documents;
  }

  /** Reads one raw document; `counted` is separate so that sampling can count every document and read some. */
  document(collection: string, bytes: Buffer): void {
    const state = this.stateOf(collection);
    if (state.summary.excluded) return;
    const documentIndex = ++state.summary.scanned;
    state.documentIndex = documentIndex;
    try {
      walkRawDocument(bytes, state.visitor, state.tree);
    } catch (error) {
      if (!(error instanceof MalformedBsonError)) throw error;
      this.record(state, '', 'unreadable-document', [], documentIndex);
    }
  }

  finish(options: { fullyScanned: (collection: string) => boolean }): CoverageReport {
    const report: CoverageReport = { findings: [...this.topFindings], accepted: [], keptBySubtree: [], collections: [], warnings: [] };
    for (const [collection, state] of [...this.states].sort(([a], [b]) => a.localeCompare(b))) {
      report.collections.push(state.summary);
      if (state.summary.excluded) continue;
      report.findings.push(...[...state.findings.values()].map(({ state: _, ...finding }) => finding));
      report.accepted.push(...state.accepted.values());
      report.keptBySubtree.push(...state.subtree.values());
      if (state.entry && state.summary.scanned > 0) this.unmatchedRules(collection, state, options.fullyScanned(collection), report);
    }
    for (const collection of this.rules.collections.keys()) {
      if (this.states.has(collection) || !this.wants(collection) || this.states.has(BUCKETS_PREFIX + collection)) continue;
      const message = `rules name collection ${this.names.collection(collection)}, which is not in the data (a typo, or a collection that is gone?)`;
      if (this.strict) report.findings.push({ collection: this.names.collection(collection), path: '', problem: 'unmatched-collection', kinds: [], documents: 0, line: 0 });
      else report.warnings.push(message);
    }
    report.findings.sort((a, b) => a.collection.localeCompare(b.collection) || a.path.localeCompare(b.path) || a.problem.localeCompare(b.problem));
    return report;
  }

  private unmatchedRules(collection: string, state: CollectionState, fullyScanned: boolean, report: CoverageReport): void {
    for (const rule of state.entry!.fields) {
      if (state.seen.has(rule.segments.map((s) => s.name).join('\0'))) continue;
      const path = rule.segments.map((s) => redactSegment(s.name)).join('.');
      if (this.strict && fullyScanned) {
        report.findings.push({ collection: this.names.collection(collection), path, problem: 'unmatched-rule', kinds: [], documents: 0, line: rule.line });
      } else {
        report.warnings.push(`${this.names.collection(collection)}.${path} (line ${rule.line}) matched no ${fullyScanned ? '' : 'sampled '}document`);
      }
    }
  }

  private stateOf(collection: string): CollectionState {
    if (!this.states.has(collection)) this.namespace(collection);
    return this.states.get(collection)!;
  }

  private leaf(state: CollectionState, leaf: RawLeaf, documentIndex: number): void {
    const memo = memoOf(leaf.node);
    let decision = memo.decision;
    if (decision === undefined) {
      const names = (memo.names = namesOf(leaf.path));
      const decisionKey = names.join('\0');
      const buckets = isBucketsOfNamed(state);
      decision = state.decisions.get(decisionKey);
      if (!decision) {
        // Bucket data read with its time-series collection's rules is matched at the paths the engine maps it to.
        decision = decideLeaf(this.rules, state.entry, names, buckets);
        if (state.decisions.size < MAX_PATHS) state.decisions.set(decisionKey, decision);
      }
      memo.decision = decision;
      const logical = buckets ? bucketLogicalNames(names) : names;
      memo.refusedKey = typeof logical === 'object' && logical !== null && decideKeys(this.rules, state.entry, logical)?.treatment === 'refuse';
    }
    if (memo.refusedKey) {
      this.record(state, this.displayOf(memo, leaf), 'refused-field', [], documentIndex);
      return;
    }
    switch (decision.kind) {
      case 'transform':
        return;
      case 'default':
        if (decision.spec === null) {
          if (decision.unnamedFields === 'refuse') this.record(state, this.displayOf(memo, leaf), 'refused-field', [], documentIndex);
          return;
        }
        if (!decision.spec.keepsValue) return;
        this.kept(state, leaf, memo, documentIndex);
        return;
      case 'keep':
      case 'keep_subtree':
        this.kept(state, leaf, memo, documentIndex);
        return;
    }
  }

  private displayOf(memo: PathMemo, leaf: RawLeaf): string {
    return (memo.display ??= this.names.path(leaf.path));
  }

  /** How a kept leaf is kept (which rule, whether it names this very path), from its decision. */
  private howOf(memo: PathMemo): KeepHow {
    if (memo.how) return memo.how;
    const decision = memo.decision!;
    if (decision.kind === 'default') {
      return (memo.how = { explicit: false, rulePath: '(default)', reason: String(decision.spec!.params.reason ?? ''), scrub: decision.spec!.scrub });
    }
    if (decision.kind === 'transform') throw new Error('a transformed leaf is not kept');
    const explicit = decision.rule.segments.length === memo.names!.length;
    return (memo.how = { explicit, rulePath: decision.rule.path, reason: String(decision.rule.params.reason ?? ''), scrub: decision.rule.scrub });
  }

  private kept(state: CollectionState, leaf: RawLeaf, memo: PathMemo, documentIndex: number): void {
    const how = this.howOf(memo);
    const path = this.displayOf(memo, leaf);
    if (!how.explicit && !memo.subtreeListed) {
      memo.subtreeListed = true;
      if (state.subtree.size < MAX_PATHS && !state.subtree.has(path)) state.subtree.set(path, { collection: state.summary.collection, path, rulePath: how.rulePath });
    }
    const lastName = memo.names!.at(-1) ?? '';
    const nameKinds = leaf.type === 0x0a || leaf.type === 0x06 ? [] : (memo.fieldKinds ??= detectFieldName(lastName));
    const text = leaf.text;
    const valueKinds = text === null || text.trim() === '' ? [] : detectValue(text);
    // Scrubbing rewrites what findPiiSpans finds inside kept strings; anything else would be published as it is.
    const scrubbed = leaf.isString && how.scrub && valueKinds.length > 0 ? new Set(findPiiSpans(text!.trim()).map((s) => s.kind)) : NO_KINDS;
    const residual = valueKinds.length === 0 ? valueKinds : valueKinds.filter((k) => !scrubbed.has(k));
    if (residual.length > 0) this.record(state, path, 'kept-pii-value', residual, documentIndex);
    if (nameKinds.length > 0 && !how.explicit) this.record(state, path, 'unreviewed-pii-field', nameKinds, documentIndex);
    // An innocent field name (Who, Login) kept wholesale may still hold a name or a handle: judge the value's shape.
    const shape = !how.explicit && leaf.isString && text !== null ? looksLikePersonOrHandle(text, lastName) : null;
    if (shape && nameKinds.length === 0) this.record(state, path, 'unreviewed-pii-field', [shape], documentIndex);
    if (valueKinds.length === 0 && (!how.explicit || nameKinds.length === 0)) return;
    const acceptedKinds = [...(how.explicit ? nameKinds : []), ...valueKinds.filter((k) => scrubbed.has(k))];
    if (acceptedKinds.length > 0) {
      const key = (memo.acceptedKey ??= `${path}\0${how.rulePath}`);
      const existing = state.accepted.get(key);
      // The usual case, a path already accepted with these kinds: nothing to add.
      if (existing && (existing.scrubbed || scrubbed.size === 0) && acceptedKinds.every((k) => existing.kinds.includes(k))) return;
      const kinds = [...new Set([...(existing?.kinds ?? []), ...acceptedKinds])].sort();
      if (existing || state.accepted.size < MAX_PATHS) {
        state.accepted.set(key, { collection: state.summary.collection, path, kinds, rulePath: how.rulePath, reason: how.reason, scrubbed: (existing?.scrubbed ?? false) || scrubbed.size > 0 });
      }
    }
  }

  private record(state: CollectionState, path: string, problem: FindingProblem, kinds: PiiKind[], documentIndex: number): void {
    const key = `${problem}\0${path}`;
    let finding = state.findings.get(key);
    if (!finding) {
      if (state.findings.size >= MAX_PATHS) return;
      finding = { collection: state.summary.collection, path, problem, kinds: [], documents: 0, state: { kinds: new Set(), documents: 0, lastDocument: 0 } };
      state.findings.set(key, finding);
    }
    kinds.forEach((k) => finding.state.kinds.add(k));
    finding.kinds = [...finding.state.kinds].sort();
    if (finding.state.lastDocument !== documentIndex) {
      finding.state.lastDocument = documentIndex;
      finding.documents++;
    }
  }
}

/** Bucket data read with its time-series collection's rules (not rules naming system.buckets.X itself). */
function isBucketsOfNamed(state: CollectionState): boolean {
  return state.entry !== null && state.summary.collection.startsWith(BUCKETS_PREFIX) && state.entry.collection !== state.summary.collection;
}


/** Literal field names with array elements left out, as rules and engine.decideLeaf see paths. */
function namesOf(path: readonly string[]): string[] {
  return path.filter((segment) => segment !== ARRAY_ELEMENT);
}


/** Convenience for tests and `rules check` on in-memory samples: every document is read. */
export function checkCoverage(rules: Rules, samples: Iterable<{ collection: string; documents: Buffer[]; type?: string; total?: number }>, options: CheckOptions = {}): CoverageReport {
  const checker = new CoverageChecker(rules, options);
  const complete = new Map<string, boolean>();
  for (const sample of samples) {
    checker.namespace(sample.collection, sample.type ?? '');
    if (!checker.wants(sample.collection)) continue;
    checker.counted(sample.collection, sample.total ?? sample.documents.length);
    for (const document of sample.documents) checker.document(sample.collection, document);
    complete.set(sample.collection, (sample.total ?? sample.documents.length) <= sample.documents.length);
  }
  return checker.finish({ fullyScanned: (c) => complete.get(c) ?? true });
}

const PROBLEM_TEXT: Record<FindingProblem, string> = {
  'unnamed-collection': 'no rule names this collection',
  'refused-field': 'no rule names this field (unnamed_fields: refuse)',
  'kept-pii-value': 'kept value looks like personal data',
  'unreviewed-pii-field': 'kept only by keep_subtree/default but looks like personal data; give it its own rule',
  'unmatched-rule': 'rule matches no document (typo, or the field is gone?)',
  'unmatched-collection': 'rules name a collection that is not in the data',
  'unreadable-document': 'a document is not valid BSON',
};

export function describeFinding(finding: CoverageFinding): string {
  const where = finding.path ? `${finding.collection}.${finding.path}` : finding.collection;
  const kinds = finding.kinds.length > 0 ? ` (${finding.kinds.join(', ')})` : '';
  const line = finding.line ? ` [rules line ${finding.line}]` : '';
  return `${where}: ${PROBLEM_TEXT[finding.problem]}${kinds}${line}`;
}

/** Fail closed: any finding stops the run. The message names collections, paths and kinds, never a value. */
export function refuseOnFindings(report: CoverageReport, rulesFile: string): void {
  if (report.findings.length === 0) return;
  const shown = report.findings.slice(0, 25).map(describeFinding);
  const more = report.findings.length > shown.length ? `\n  ... and ${report.findings.length - shown.length} more (run \`syrf-db rules check\` for all)` : '';
  throw new UserError(`the anonymization coverage check found ${report.findings.length} problem(s):\n  ${shown.join('\n  ')}${more}`, {
    hint: `name each in ${rulesFile} (a transform, or { transform: keep, reason: "..." }), fix or remove rules that match nothing, or run \`syrf-db rules init\` for a skeleton; names no rule contains are shown as <unnamed ... #n> (on a trusted terminal, \`syrf-db rules check --show-unnamed-names\` prints them)`,
    exitCode: ExitCode.findings,
  });
}

