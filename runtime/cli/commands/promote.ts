import type { Command } from 'commander';
import { UserError, ExitCode } from '../../errors.js';
import { openStore } from '../../store/open.js';
import { LATEST_KEY, formatLatest } from '../../store/layout.js';
import { loadManifest, resolveSnapshotId } from '../../snapshot/catalog.js';
import { verifySnapshot } from '../../snapshot/verify.js';

export function registerPromoteCommand(program: Command): void {
  program
    .command('promote')
    .description('point latest.txt at a snapshot, after verifying it (recovery from a bad latest)')
    .argument('<id>', 'snapshot id')
    .requiredOption('--from <store>', 'gs://BUCKET[/PREFIX] or file://DIR')
    .action(async (requested: string, opts: { from: string }) => {
      const store = openStore(opts.from);
      if (requested === 'latest') throw new UserError('promote needs a dated snapshot id, not "latest"', { exitCode: ExitCode.usage });
      const id = await resolveSnapshotId(store, requested);
      const result = await verifySnapshot(store, id, await loadManifest(store, id));
      if (!result.ok) {
        throw new UserError(`snapshot ${id} failed verification, latest.txt left as it was: ${result.problems.join('; ')}`, {
          hint: 'pick another snapshot (`syrf-db list`) or take a new one',
          exitCode: ExitCode.corrupt,
        });
      }
      await store.write(LATEST_KEY, formatLatest(id), { contentType: 'text/plain' });
      process.stdout.write(`${store.describe(LATEST_KEY)} now points to ${id}\n`);
    });
}
