import type { Command } from 'commander';
import { openStore } from '../../store/open.js';
import { loadManifest, resolveSnapshotId } from '../../snapshot/catalog.js';
import { formatBytes, printJson, renderTable } from '../format.js';

export function registerShowCommand(program: Command): void {
  program
    .command('show')
    .description("print a snapshot's manifest (collections, counts, indexes, checksums)")
    .argument('<id>', 'snapshot id or "latest"')
    .requiredOption('--from <store>', 'gs://BUCKET[/PREFIX] or file://DIR')
    .option('--json', 'the manifest as stored')
    .action(async (requested: string, opts: { from: string; json?: boolean }) => {
      const store = openStore(opts.from);
      const id = await resolveSnapshotId(store, requested);
      const manifest = await loadManifest(store, id);
      if (opts.json) {
        printJson(manifest);
        return;
      }
      const a = manifest.anonymization;
      process.stdout.write(
        [
          `snapshot    ${manifest.id}${requested === 'latest' ? ' (latest)' : ''}`,
          `created     ${manifest.createdAt} (${manifest.durationSeconds.toFixed(1)} s)`,
          `source      ${manifest.source.db} on ${manifest.source.hosts.join(',') || '?'} (MongoDB ${manifest.source.serverVersion})`,
          `archive     ${formatBytes(manifest.archive.sizeBytes)} gzip, ${formatBytes(manifest.archive.uncompressedBytes)} BSON, sha256 ${manifest.archive.sha256}`,
          `anonymized  ${a.anonymized ? `yes (rules sha256 ${a.rulesSha256}, key ${a.keyFingerprint}${a.sizeLimitsApplied ? ', size limits applied' : ''})` : 'NO: raw production data'}`,
          `excluded    ${manifest.excludedCollections.join(', ') || '-'}`,
          `tool        ${manifest.tool.name} ${manifest.tool.version}`,
          '',
        ].join('\n'),
      );
      const rows = manifest.collections.map((c) => [
        c.name,
        c.type,
        String(c.documents),
        formatBytes(c.bytes),
        c.indexes.map((i) => String(i.name)).join(', '),
        c.schemaVersions.join(', ') || '-',
      ]);
      process.stdout.write(renderTable(['COLLECTION', 'TYPE', 'DOCUMENTS', 'BYTES', 'INDEXES', 'SCHEMA VERSIONS'], rows));
    });
}
