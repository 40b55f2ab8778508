/**
 * Replays one spooled collection, keeping what its size limit and its parent
 * allow, and records the referenced keys of what it kept for its followers.
 */
import { BSON, type Document } from 'bson';
import type { ArchiveEvent } from '../archive/types.js';
import type { Logger } from '../ops/log.js';
import { DECODE_OPTIONS, decodeFields } from '../anonymize/engine.js';
import { canonicalKey, rankOfId, valuesAt } from './canonical.js';
import type { SubsetState } from './plan.js';
import { SmallestN } from './select.js';

const BATCH_DOCUMENTS = 1000;

export async function* emitSubset(state: SubsetState, logger: Logger): AsyncGenerator<ArchiveEvent> {
  const { db, collection } = state;
  const parentKeys =
    state.parent?.cut && state.limit.follows ? (state.parent.keptKeys.get(state.limit.follows.references) ?? new Set<string>()) : null;
  const followField = state.followField ?? [];
  const belongs = (doc: Document) => parentKeys === null || valuesAt(doc, followField).some((v) => parentKeys.has(canonicalKey(v)));
  // Only `_id` and the referenced fields are looked at: decode just those top-level fields.
  const paths = [...(parentKeys ? [followField] : []), ...state.referencedBy.values()];
  const names = paths.some((path) => path.length === 0) ? null : [...new Set(['_id', ...paths.map((path) => path[0]!.name)])].map((name) => Buffer.from(name, 'utf8'));
  const decode = names ? (bytes: Buffer) => decodeFields(bytes, names) : (bytes: Buffer) => BSON.deserialize(bytes, DECODE_OPTIONS);

  let selector: SmallestN | null = null;
  let candidates = 0;
  if (state.limit.maxDocuments !== null && state.spool) {
    selector = new SmallestN(state.limit.maxDocuments);
    for await (const batch of state.spool.batches()) {
      for (const bytes of batch) {
        const doc = decode(bytes);
        if (belongs(doc)) selector.offer({ rank: rankOfId(doc._id), seq: candidates++ });
      }
    }
  }

  for (const path of state.referencedBy.keys()) state.keptKeys.set(path, new Set());
  let total = 0;
  let kept = 0;
  let seq = 0;
  if (state.spool) {
    for await (const batch of state.spool.batches()) {
      const out: Buffer[] = [];
      for (const bytes of batch) {
        total++;
        const doc = decode(bytes);
        if (!belongs(doc)) continue;
        if (selector && !selector.keeps({ rank: rankOfId(doc._id), seq: seq++ })) continue;
        out.push(bytes);
        for (const [path, segments] of state.referencedBy) {
          const keys = state.keptKeys.get(path)!;
          for (const value of valuesAt(doc, segments)) keys.add(canonicalKey(value));
        }
      }
      kept += out.length;
      for (let i = 0; i < out.length; i += BATCH_DOCUMENTS) {
        yield { type: 'segment', db, collection, documents: compacted(out.slice(i, i + BATCH_DOCUMENTS)) };
      }
    }
  }
  await state.spool?.remove();
  state.cut = kept < total;
  state.resolved = true;
  logger.info(`subset ${db}.${collection}: kept ${kept} of ${total} documents`, {
    ...(state.limit.maxDocuments !== null ? { limit: state.limit.maxDocuments } : {}),
    ...(state.parent ? { follows: state.parent.collection } : {}),
  });
  yield { type: 'eof', db, collection, crc: 0n };
}

/**
 * The documents copied side by side into one new buffer. Kept documents are
 * views of the spool's read chunks, and a view keeps its whole chunk alive:
 * when a size limit keeps 1 document in 40, the writer's 1 MiB of pending
 * output would otherwise pin ~40 MiB of chunks, growing as the input grows.
 */
function compacted(documents: Buffer[]): Buffer[] {
  if (documents.length === 0) return documents;
  const joined = Buffer.concat(documents);
  let at = 0;
  return documents.map((document) => {
    const copy = joined.subarray(at, at + document.length);
    at += document.length;
    return copy;
  });
}
