import type { Logger } from '../ops/log.js';
import type { Store } from '../store/store.js';
import { snapshotKeys } from '../store/layout.js';
import { listSnapshots } from './catalog.js';
import { planRetention, type RetentionDecision, type RetentionPolicy } from './retention.js';

/** Applies the retention plan to a store; with dryRun nothing is deleted. */
export async function pruneSnapshots(
  store: Store,
  policy: RetentionPolicy,
  options: { dryRun: boolean; now: Date; logger: Logger },
): Promise<RetentionDecision[]> {
  const snapshots = await listSnapshots(store);
  const decisions = planRetention(snapshots, policy, options.now);
  if (options.dryRun) return decisions;
  for (const decision of decisions) {
    if (decision.action !== 'delete') continue;
    const objects = await store.list(snapshotKeys(decision.id).dir);
    // Manifest first: a half-deleted snapshot then reads as incomplete, never as complete.
    objects.sort((a, b) => Number(b.key.endsWith('manifest.json')) - Number(a.key.endsWith('manifest.json')));
    for (const object of objects) await store.delete(object.key);
    options.logger.info(`deleted snapshot ${decision.id}: ${decision.reason}`, { snapshot: decision.id, reason: decision.reason });
  }
  return decisions;
}
