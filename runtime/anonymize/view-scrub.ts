/**
 * A named view's pipeline, rebuilt from an allow-list so that no literal of
 * the original survives (a view may filter on `{Email: "alice@…"}`, list
 * names under `$in`, or hide them in `$expr`, `$lookup` sub-pipelines or
 * `$literal`):
 *  - stage and operator names are kept only when they are MongoDB operators
 *    this list knows; an unknown stage is left out, an unknown operator key
 *    is renamed like an unnamed field;
 *  - field names and `$field` / `$$variable` references keep a segment only
 *    when the rules name it somewhere (else it becomes `f<16 hex>`, keyed and
 *    stable, so references to the same field still agree); collection names
 *    (`from`, `coll`) only when the rules name the collection;
 *  - a value compared with a field in a `$match` goes through the rules of
 *    the collection the stage reads (so the view still matches the
 *    anonymized documents); every other string, binary, date, regex, code
 *    or large number is masked;
 *  - small integers (|n| ≤ 1000: sort directions, projections, limits),
 *    booleans and null are structure and stay.
 */
import { Double, Int32, Long, type Document } from 'bson';
import type { Anonymizer, DocumentAnonymizer } from './engine.js';
import type { MetadataScrubOptions } from './metadata-scope.js';
import { isNamedCollection, type Rules } from './rules.js';
import type { TransformContext, ValueTransform } from './transforms/types.js';
import { hexPrefix, isSubdocument } from './transforms/values.js';

export interface ViewScrubScope {
  /** True when some rule names this literal field name (one segment). */
  isNamedSegment: (name: string) => boolean;
  /** True when the rules name this collection. */
  isNamedCollection: (name: string) => boolean;
  /** The anonymizer of a collection a stage reads, to put compared values through its rules; null = mask them. */
  anonymizerFor: (collection: string) => DocumentAnonymizer | null;
  /** Puts `value` stored at dotted `path` through an anonymizer's rules; a value the rules keep comes back masked. */
  throughRules: (path: string, value: unknown, anonymizer: DocumentAnonymizer) => unknown;
  mask: ValueTransform;
  context: TransformContext;
}

const SYSTEM_VARIABLES = new Set(['ROOT', 'CURRENT', 'NOW', 'REMOVE', 'DESCEND', 'PRUNE', 'KEEP', 'CLUSTER_TIME', 'USER_ROLES', 'SEARCH_META']);
const SMALL_INTEGER = 1000;

const STAGES = new Set([
  '$addFields', '$bucket', '$bucketAuto', '$count', '$densify', '$facet', '$fill', '$graphLookup', '$group', '$limit', '$lookup',
  '$match', '$project', '$redact', '$replaceRoot', '$replaceWith', '$sample', '$set', '$setWindowFields', '$skip', '$sort',
  '$sortByCount', '$unionWith', '$unset', '$unwind', '$documents',
]);

// Expression, accumulator, window and query operators (MongoDB 7).
const OPERATORS = new Set(
  (
    'abs acos acosh add addToSet allElementsTrue and anyElementTrue arrayElemAt arrayToObject asin asinh atan atan2 atanh avg ' +
    'binarySize bitAnd bitNot bitOr bitXor bottom bottomN bsonSize ceil cmp concat concatArrays cond convert cos cosh count covariancePop ' +
    'covarianceSamp dateAdd dateDiff dateFromParts dateFromString dateSubtract dateToParts dateToString dateTrunc dayOfMonth dayOfWeek ' +
    'dayOfYear degreesToRadians denseRank derivative divide documentNumber eq exp expMovingAvg filter first firstN floor function ' +
    'getField gt gte hour ifNull in indexOfArray indexOfBytes indexOfCP integral isArray isNumber isoDayOfWeek isoWeek isoWeekYear ' +
    'last lastN let linearFill literal ln locf log log10 lt lte ltrim map max maxN median mergeObjects meta millisecond min minN minute ' +
    'mod month multiply ne not objectToArray or percentile pow push radiansToDegrees rand range rank reduce regexFind regexFindAll ' +
    'regexMatch replaceAll replaceOne reverseArray round rtrim sampleRate second setDifference setEquals setField setIntersection ' +
    'setIsSubset setUnion shift sin sinh size slice sortArray split sqrt stdDevPop stdDevSamp strcasecmp strLenBytes strLenCP substr ' +
    'substrBytes substrCP subtract sum switch tan tanh toBool toDate toDecimal toDouble toInt toLong toLower toObjectId top topN ' +
    'toString toUpper trim trunc tsIncrement tsSecond type unsetField week year zip ' +
    // query operators inside $match / $elemMatch
    'all elemMatch exists expr nin nor regex options'
  )
    .split(/\s+/)
    .map((name) => `$${name}`),
);

const FILTER_LOGICAL = new Set(['$and', '$or', '$nor']);
const FILTER_COMPARISON = new Set(['$eq', '$ne', '$gt', '$gte', '$lt', '$lte']);
const FILTER_LIST = new Set(['$in', '$nin', '$all']);

export function scrubViewPipeline(pipeline: unknown, source: string, scope: ViewScrubScope): Document[] {
  return new ViewScrubber(scope).pipeline(pipeline, source);
}

class ViewScrubber {
  constructor(private readonly scope: ViewScrubScope) {}

  pipeline(value: unknown, source: string): Document[] {
    if (!Array.isArray(value)) return [];
    const out: Document[] = [];
    for (const stage of value) {
      const scrubbed = isSubdocument(stage) ? this.stage(stage, source) : null;
      if (scrubbed) out.push(scrubbed);
    }
    return out;
  }

  /** The collection a `from`/`coll` names, or its keyed stand-in. */
  collection(name: unknown): string {
    return typeof name === 'string' && this.scope.isNamedCollection(name) ? name : this.ident(String(name));
  }

  ident(name: string): string {
    return this.scope.isNamedSegment(name) ? name : `f${hexPrefix(this.scope.context.mac('view:name', name), 16)}`;
  }

  /** A dotted field path with each unnamed segment replaced. */
  path(dotted: string): string {
    return dotted
      .split('.')
      .map((segment) => this.ident(segment))
      .join('.');
  }

  /** A `$field.path` or `$$variable.path` reference; any other string is a literal. */
  reference(text: string): string {
    if (text.startsWith('$$')) {
      const [variable = '', ...rest] = text.slice(2).split('.');
      const head = SYSTEM_VARIABLES.has(variable) ? variable : this.ident(variable);
      return `$$${[head, ...rest.map((segment) => this.ident(segment))].join('.')}`;
    }
    return `$${this.path(text.slice(1))}`;
  }

  isNamedPath(dotted: string): boolean {
    return dotted.split('.').every((segment) => this.scope.isNamedSegment(segment));
  }

  stage(stage: Document, source: string): Document | null {
    const entries = Object.entries(stage);
    if (entries.length !== 1) return null;
    const [name, argument] = entries[0]!;
    if (!STAGES.has(name)) return null;
    switch (name) {
      case '$match':
        return { $match: isSubdocument(argument) ? this.filter(argument, source) : {} };
      case '$lookup': {
        if (!isSubdocument(argument)) return null;
        const from = typeof argument.from === 'string' ? argument.from : source;
        const out: Document = {};
        if (argument.from !== undefined) out.from = this.collection(argument.from);
        for (const field of ['localField', 'foreignField', 'as'] as const) if (typeof argument[field] === 'string') out[field] = this.path(argument[field]);
        if (isSubdocument(argument.let)) out.let = this.variables(argument.let, source);
        if (argument.pipeline !== undefined) out.pipeline = this.pipeline(argument.pipeline, from);
        return { $lookup: out };
      }
      case '$graphLookup': {
        if (!isSubdocument(argument)) return null;
        const from = typeof argument.from === 'string' ? argument.from : source;
        const out: Document = { from: this.collection(argument.from) };
        if (argument.startWith !== undefined) out.startWith = this.expression(argument.startWith);
        for (const field of ['connectFromField', 'connectToField', 'as', 'depthField'] as const) if (typeof argument[field] === 'string') out[field] = this.path(argument[field]);
        if (argument.maxDepth !== undefined) out.maxDepth = this.expression(argument.maxDepth);
        if (isSubdocument(argument.restrictSearchWithMatch)) out.restrictSearchWithMatch = this.filter(argument.restrictSearchWithMatch, from);
        return { $graphLookup: out };
      }
      case '$unionWith': {
        if (typeof argument === 'string') return { $unionWith: this.collection(argument) };
        if (!isSubdocument(argument)) return null;
        const coll = typeof argument.coll === 'string' ? argument.coll : source;
        const out: Document = { coll: this.collection(argument.coll) };
        if (argument.pipeline !== undefined) out.pipeline = this.pipeline(argument.pipeline, coll);
        return { $unionWith: out };
      }
      case '$facet': {
        if (!isSubdocument(argument)) return null;
        const out: Document = {};
        for (const [output, pipeline] of Object.entries(argument)) out[this.ident(output)] = this.pipeline(pipeline, source);
        return { $facet: out };
      }
      case '$unwind':
        if (typeof argument === 'string') return { $unwind: this.expression(argument) };
        if (!isSubdocument(argument)) return null;
        return {
          $unwind: {
            path: this.expression(argument.path),
            ...(typeof argument.includeArrayIndex === 'string' ? { includeArrayIndex: this.path(argument.includeArrayIndex) } : {}),
            ...(typeof argument.preserveNullAndEmptyArrays === 'boolean' ? { preserveNullAndEmptyArrays: argument.preserveNullAndEmptyArrays } : {}),
          },
        };
      case '$count':
        return { $count: this.ident(String(argument)) };
      case '$unset':
        return { $unset: typeof argument === 'string' ? this.path(argument) : Array.isArray(argument) ? argument.map((p) => this.path(String(p))) : [] };
      default:
        return { [name]: this.expression(argument) };
    }
  }

  variables(definitions: Document, _source: string): Document {
    const out: Document = {};
    for (const [variable, expression] of Object.entries(definitions)) out[this.ident(variable)] = this.expression(expression);
    return out;
  }

  /** Any expression or stage argument: structure kept, literals masked. */
  expression(value: unknown): unknown {
    if (typeof value === 'string') return value.startsWith('$') && value.length > 1 ? this.reference(value) : this.scope.mask(value);
    if (Array.isArray(value)) return value.map((item) => this.expression(item));
    if (isSubdocument(value)) {
      const out: Document = {};
      for (const [key, item] of Object.entries(value)) {
        if (key === '$literal') out[key] = this.literal(item);
        else if (key.startsWith('$')) out[OPERATORS.has(key) ? key : this.ident(key.slice(1))] = this.expression(item);
        else out[this.path(key)] = this.expression(item);
      }
      return out;
    }
    return this.literal(value);
  }

  /** A value that is data, not structure: only small integers, booleans and null survive. */
  literal(value: unknown): unknown {
    if (value === null || typeof value === 'boolean') return value;
    if (isSmallInteger(value)) return value;
    if (Array.isArray(value)) return value.map((item) => this.literal(item));
    if (isSubdocument(value)) {
      const out: Document = {};
      for (const [key, item] of Object.entries(value)) out[this.ident(key)] = this.literal(item);
      return out;
    }
    return this.scope.mask(value);
  }

  /** A query filter on documents of `source`: compared values go through its rules where the field is named, else are masked. */
  filter(filter: Document, source: string): Document {
    const out: Document = {};
    for (const [key, condition] of Object.entries(filter)) {
      if (FILTER_LOGICAL.has(key)) {
        out[key] = Array.isArray(condition) ? condition.filter(isSubdocument).map((clause) => this.filter(clause, source)) : [];
      } else if (key === '$expr') {
        out[key] = this.expression(condition);
      } else if (key.startsWith('$')) {
        // $text, $where, $comment, $jsonSchema...: left out (the view matches more, never reveals more).
        continue;
      } else {
        out[this.path(key)] = this.condition(key, condition, source);
      }
    }
    return out;
  }

  condition(field: string, condition: unknown, source: string): unknown {
    if (isSubdocument(condition) && Object.keys(condition).some((k) => k.startsWith('$'))) {
      const ops: Document = {};
      for (const [op, operand] of Object.entries(condition)) {
        if (FILTER_COMPARISON.has(op)) ops[op] = this.compared(field, operand, source);
        else if (FILTER_LIST.has(op)) ops[op] = Array.isArray(operand) ? operand.map((item) => this.compared(field, item, source)) : [];
        else if (op === '$exists') ops[op] = typeof operand === 'boolean' ? operand : true;
        else if (op === '$type' || op === '$size') ops[op] = this.literal(operand);
        else if (op === '$not') ops[op] = isSubdocument(operand) ? this.condition(field, operand, source) : this.scope.mask(operand);
        else if (op === '$elemMatch' && isSubdocument(operand)) ops[op] = this.filter(operand, source);
        else if (op === '$regex') ops[op] = this.scope.mask(operand);
        else if (op === '$options' && typeof operand === 'string' && /^[imsxu]*$/.test(operand)) ops[op] = operand;
        // Anything else is left out.
      }
      return ops;
    }
    return this.compared(field, condition, source);
  }

  /** A value compared with `field` of `source`: what the rules make of it there, so the view still matches; else masked. */
  compared(field: string, value: unknown, source: string): unknown {
    if (value === null || typeof value === 'boolean' || isSmallInteger(value)) return value;
    const anonymizer = this.isNamedPath(field) ? this.scope.anonymizerFor(source) : null;
    return anonymizer ? this.scope.throughRules(field, value, anonymizer) : this.literal(value);
  }
}

function isSmallInteger(value: unknown): boolean {
  const n = typeof value === 'number' ? value : value instanceof Int32 || value instanceof Double ? value.value : value instanceof Long ? Number(value) : NaN;
  return Number.isInteger(n) && Math.abs(n) <= SMALL_INTEGER;
}

/** The names a view may publish and the anonymizers its stages read, from the rules. */
export function viewScopeOf(rules: Rules, anonymizer: Anonymizer): NonNullable<MetadataScrubOptions['view']> {
  const segments = new Set<string>(['_id']);
  for (const entry of rules.collections.values()) for (const rule of entry.fields) for (const segment of rule.segments) segments.add(segment.name);
  return {
    isNamedSegment: (name) => segments.has(name),
    isNamedCollection: (name) => isNamedCollection(rules, name),
    anonymizerFor: (collection) => anonymizer.forCollection(collection),
  };
}
