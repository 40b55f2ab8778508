import type { Command } from 'commander';
import { openStore } from '../../store/open.js';
import { listSnapshots } from '../../snapshot/catalog.js';
import { totalDocuments } from '../../snapshot/manifest.js';
import { formatBytes, printJson, renderTable } from '../format.js';

export function registerListCommand(program: Command): void {
  program
    .command('list')
    .description('list the snapshots in a store with their status, size, counts and anonymization')
    .requiredOption('--from <store>', 'gs://BUCKET[/PREFIX] or file://DIR')
    .option('--json', 'machine-readable output')
    .action(async (opts: { from: string; json?: boolean }) => {
      const snapshots = await listSnapshots(openStore(opts.from));
      if (opts.json) {
        printJson(
          snapshots.map((s) => ({
            id: s.id,
            status: s.status,
            reason: s.reason ?? null,
            latest: s.isLatest,
            sizeBytes: s.dumpBytes ?? null,
            documents: s.manifest ? totalDocuments(s.manifest) : null,
            collections: s.manifest?.collections.length ?? null,
            anonymized: s.manifest?.anonymization.anonymized ?? null,
            createdAt: s.manifest?.createdAt ?? null,
          })),
        );
        return;
      }
      if (snapshots.length === 0) {
        process.stdout.write(`no snapshots in ${opts.from}\n`);
        return;
      }
      const rows = snapshots.map((s) => [
        s.id + (s.isLatest ? ' (latest)' : ''),
        s.status + (s.reason && s.status !== 'complete' ? `: ${s.reason}` : ''),
        s.dumpBytes === undefined ? '-' : formatBytes(s.dumpBytes),
        s.manifest ? String(s.manifest.collections.length) : '-',
        s.manifest ? String(totalDocuments(s.manifest)) : '-',
        s.manifest ? (s.manifest.anonymization.anonymized ? 'yes' : 'NO (raw)') : '-',
      ]);
      process.stdout.write(renderTable(['ID', 'STATUS', 'SIZE', 'COLLECTIONS', 'DOCUMENTS', 'ANONYMIZED'], rows));
    });
}
