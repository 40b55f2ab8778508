/**
 * How much the snapshot store holds, per top-level prefix, measured after
 * prune so the numbers describe what retention leaves behind. Only the
 * snapshot root is listed: it is the part of the bucket this tool owns and
 * the part the producer's identity may list.
 */
import { SNAPSHOT_ROOT } from '../store/layout.js';
import type { Store } from '../store/store.js';
import type { ExtraGauge } from './metrics.js';

export interface PrefixUsage {
  prefix: string;
  bytes: number;
  objects: number;
}

export async function measureStorage(store: Store, roots: readonly string[] = [`${SNAPSHOT_ROOT}/`]): Promise<PrefixUsage[]> {
  const usage: PrefixUsage[] = [];
  for (const root of roots) {
    const objects = await store.list(root);
    usage.push({ prefix: root, bytes: objects.reduce((sum, o) => sum + o.size, 0), objects: objects.length });
  }
  return usage;
}

export function storageGauges(usage: readonly PrefixUsage[], budgetBytes: number | undefined): ExtraGauge[] {
  const gauges: ExtraGauge[] = [];
  for (const u of usage) {
    gauges.push({ name: 'syrf_db_storage_bytes', help: 'Bytes stored under the prefix after the latest prune (current object versions).', labels: { prefix: u.prefix }, value: u.bytes });
  }
  for (const u of usage) {
    gauges.push({ name: 'syrf_db_storage_objects', help: 'Objects stored under the prefix after the latest prune.', labels: { prefix: u.prefix }, value: u.objects });
  }
  if (budgetBytes !== undefined) {
    gauges.push({ name: 'syrf_db_storage_budget_bytes', help: 'The configured storage budget; SyrfDbStorageOverBudget fires above it.', value: budgetBytes });
  }
  return gauges;
}
