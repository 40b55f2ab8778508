/**
 * Chooses which N documents a size limit keeps without holding them: a
 * bounded max-heap of (rank, sequence) pairs finds the N smallest ranks in a
 * first pass; a second pass keeps exactly the documents at or below that
 * threshold. Ranks come from the document `_id`, so the choice is the same
 * whatever order the documents arrive in, and the same from one snapshot to
 * the next for documents that still exist.
 */
export interface Ranked {
  rank: bigint;
  seq: number;
}

export class SmallestN {
  private readonly heap: Ranked[] = [];
  private offered = 0;

  constructor(private readonly n: number) {}

  offer(item: Ranked): void {
    this.offered++;
    if (this.heap.length < this.n) {
      this.heap.push(item);
      this.siftUp(this.heap.length - 1);
    } else if (this.n > 0 && compare(item, this.heap[0]!) < 0) {
      this.heap[0] = item;
      this.siftDown(0);
    }
  }

  /** True when more were offered than are kept. */
  get cuts(): boolean {
    return this.offered > this.n;
  }

  /** Whether `item` (offered earlier) is among the N kept. */
  keeps(item: Ranked): boolean {
    if (!this.cuts) return true;
    const largest = this.heap[0];
    return largest !== undefined && compare(item, largest) <= 0;
  }

  private siftUp(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (compare(this.heap[i]!, this.heap[parent]!) <= 0) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private siftDown(i: number): void {
    const size = this.heap.length;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let largest = i;
      if (left < size && compare(this.heap[left]!, this.heap[largest]!) > 0) largest = left;
      if (right < size && compare(this.heap[right]!, this.heap[largest]!) > 0) largest = right;
      if (largest === i) return;
      this.swap(i, largest);
      i = largest;
    }
  }

  private swap(a: number, b: number): void {
    const t = this.heap[a]!;
    this.heap[a] = this.heap[b]!;
    this.heap[b] = t;
  }
}

function compare(a: Ranked, b: Ranked): number {
  if (a.rank !== b.rank) return a.rank < b.rank ? -1 : 1;
  return a.seq - b.seq;
}
