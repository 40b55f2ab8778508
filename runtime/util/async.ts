/**
 * Merges async iterables, pulling from at most `concurrency` of them at a
 * time, in the order given. Items of one source keep their order; sources
 * interleave. Errors from any source end the merge.
 */
export async function* mergeLimited<T>(sources: Array<() => AsyncIterable<T>>, concurrency: number): AsyncGenerator<T> {
  const limit = Math.max(1, concurrency);
  type Slot = { iterator: AsyncIterator<T>; pending: Promise<{ slot: Slot; result: IteratorResult<T> }> };
  const active = new Set<Slot>();
  let next = 0;

  const pull = (slot: Slot) => {
    slot.pending = slot.iterator.next().then((result) => ({ slot, result }));
  };
  const startNext = () => {
    const factory = sources[next++];
    if (!factory) return;
    const slot = { iterator: factory()[Symbol.asyncIterator]() } as Slot;
    pull(slot);
    active.add(slot);
  };

  try {
    while (active.size < limit && next < sources.length) startNext();
    while (active.size > 0) {
      const { slot, result } = await Promise.race([...active].map((s) => s.pending));
      if (result.done) {
        active.delete(slot);
        startNext();
        continue;
      }
      pull(slot);
      yield result.value;
    }
  } finally {
    await Promise.allSettled([...active].map((s) => s.iterator.return?.()));
  }
}
