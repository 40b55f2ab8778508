import type { Command } from 'commander';
import { UserError, ExitCode } from '../../errors.js';
import { openStore } from '../../store/open.js';
import { loadManifest, resolveSnapshotId } from '../../snapshot/catalog.js';
import { verifySnapshot } from '../../snapshot/verify.js';
import { printJson } from '../format.js';

export function registerVerifyCommand(program: Command): void {
  program
    .command('verify')
    .description('re-read a snapshot and check its sha256, archive structure, CRCs and counts against the manifest')
    .argument('<id>', 'snapshot id or "latest"')
    .requiredOption('--from <store>', 'gs://BUCKET[/PREFIX] or file://DIR')
    .option('--json', 'machine-readable output')
    .action(async (requested: string, opts: { from: string; json?: boolean }) => {
      const store = openStore(opts.from);
      const id = await resolveSnapshotId(store, requested);
      const result = await verifySnapshot(store, id, await loadManifest(store, id));
      if (opts.json) printJson(result);
      else if (result.ok) process.stdout.write(`snapshot ${id} OK: sha256 ${result.sha256}, ${result.documents} documents\n`);
      if (!result.ok) {
        throw new UserError(`snapshot ${id} failed verification: ${result.problems.join('; ')}`, {
          hint: 'do not restore it; re-run the snapshot, or point latest at a good one with `syrf-db promote`',
          exitCode: ExitCode.corrupt,
        });
      }
    });
}
