/**
 * Holds a whole event stream on local disk until its input has ended, then
 * replays it. Wrapped around `anonymizeArchive`, whose coverage check gives
 * its verdict only when the input ends, it makes a refusal happen before the
 * first document reaches the consumer: a restore that loads a raw snapshot
 * writes nothing into the target database unless the check passed, even
 * when it is killed mid-run.
 */
import { join } from 'node:path';
import type { ArchiveEvent } from '../archive/types.js';
import { Spool } from '../subset/spool.js';
import { createRunTempDir, removeRunTempDir } from '../util/temp-dirs.js';

type Held = { event: ArchiveEvent; documents: number };

export async function* heldUntilEnd(events: AsyncIterable<ArchiveEvent>, options: { workDir?: string } = {}): AsyncGenerator<ArchiveEvent> {
  // A killed run's held copy is removed by the next run (the directory carries its pid).
  const dir = await createRunTempDir('syrf-held-', { ...(options.workDir ? { root: options.workDir } : {}), what: 'held restore documents' });
  try {
    const spool = new Spool(join(dir, 'documents.bson'));
    const held: Held[] = [];
    for await (const event of events) {
      if (event.type === 'segment') {
        await spool.append(event.documents);
        held.push({ event: { ...event, documents: [] }, documents: event.documents.length });
      } else {
        held.push({ event, documents: 0 });
      }
    }
    // The input ended without an error: the check passed. Replay in the same order.
    const batches = spool.batches();
    let pending: Buffer[] = [];
    for (const { event, documents } of held) {
      if (event.type !== 'segment') {
        yield event;
        continue;
      }
      const out: Buffer[] = [];
      while (out.length < documents) {
        if (pending.length === 0) {
          const next = await batches.next();
          if (next.done) throw new Error('held documents ended early');
          pending = next.value;
        }
        const take = Math.min(documents - out.length, pending.length);
        out.push(...pending.slice(0, take));
        pending = pending.slice(take);
      }
      yield { ...event, documents: out };
    }
    await batches.return(undefined);
    await spool.remove();
  } finally {
    await removeRunTempDir(dir);
  }
}
