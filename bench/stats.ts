/** Timing arithmetic for the benchmark: medians and interleaved runs. Pure apart from the clock. */

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of nothing');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export interface Variant {
  name: string;
  /** Runs once; may return extra facts to record (document counts, ...). */
  run: () => Promise<void>;
  /** Runs before each timed run, untimed (e.g. dropping the target database). */
  prepare?: () => Promise<void>;
}

export interface Timing {
  name: string;
  seconds: number[];
  medianSeconds: number;
}

/**
 * Runs every variant `runs` times, round-robin (A B C A B C ...), so a
 * slow patch of a shared machine hurts all variants alike instead of
 * whichever happened to be running; reports the median per variant.
 */
export async function timeInterleaved(variants: readonly Variant[], runs: number, onRun?: (name: string, seconds: number) => void): Promise<Map<string, Timing>> {
  const seconds = new Map<string, number[]>(variants.map((v) => [v.name, []]));
  for (let round = 0; round < runs; round++) {
    for (const variant of variants) {
      await variant.prepare?.();
      const start = process.hrtime.bigint();
      await variant.run();
      const elapsed = Number(process.hrtime.bigint() - start) / 1e9;
      seconds.get(variant.name)!.push(elapsed);
      onRun?.(variant.name, elapsed);
    }
  }
  return new Map(
    [...seconds].map(([name, list]) => [name, { name, seconds: list, medianSeconds: median(list) }]),
  );
}

export function mib(bytes: number): number {
  return bytes / (1024 * 1024);
}
