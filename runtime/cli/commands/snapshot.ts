import type { Command } from 'commander';
import { UserError } from '../../errors.js';
import { connectMongo } from '../../mongo/connect.js';
import { openStore } from '../../store/open.js';
import { takeSnapshot } from '../../snapshot/take.js';
import { totalDocuments } from '../../snapshot/manifest.js';
import { loggerFor, parseList } from '../context.js';
import { parseCount, parsePositive } from '../options.js';
import { formatBytes } from '../format.js';

interface SnapshotOptions {
  uri?: string;
  db: string;
  to: string;
  id?: string;
  exclude?: string[];
  parallel: number;
  gzipLevel: number;
  schemaVersionField: string;
}

export function registerSnapshotCommand(program: Command): void {
  program
    .command('snapshot')
    .description('dump a database into STORE/prod/<id>/dump.gz (mongodump archive, gzip) + manifest.json, verify it, then move latest.txt')
    .option('--uri <uri>', 'MongoDB connection string (default: $MONGO_URI)')
    .requiredOption('--db <name>', 'database to capture, e.g. syrftest')
    .requiredOption('--to <store>', 'gs://BUCKET[/PREFIX] or file://DIR')
    .option('--id <id>', 'snapshot id (default: today as YYYY-MM-DD, UTC)')
    .option('--exclude <collections...>', 'collections to leave out (system.* always are)', (v: string, prev: string[] = []) => [...prev, ...(parseList(v) ?? [])])
    .option('--parallel <n>', 'collections dumped at once', parsePositive, 4)
    .option('--gzip-level <n>', 'gzip compression level 1-9', parseCount, 6)
    .option('--schema-version-field <name>', 'top-level field recorded as schema version per collection', 'SchemaVersion')
    .action(async (opts: SnapshotOptions, cmd: Command) => {
      const logger = loggerFor(cmd);
      const uri = opts.uri ?? process.env.MONGO_URI;
      if (!uri) throw new UserError('no MongoDB URI given', { hint: 'pass --uri or set MONGO_URI', exitCode: 2 });
      if (opts.gzipLevel < 1 || opts.gzipLevel > 9) throw new UserError('--gzip-level must be 1-9', { exitCode: 2 });
      const store = openStore(opts.to);
      const excluded = new Set(opts.exclude ?? []);
      const client = await connectMongo(uri);
      try {
        const manifest = await takeSnapshot({
          client,
          uri,
          db: opts.db,
          store,
          ...(opts.id ? { id: opts.id } : {}),
          isExcluded: (name) => excluded.has(name),
          parallelCollections: opts.parallel,
          gzipLevel: opts.gzipLevel,
          schemaVersionField: opts.schemaVersionField,
          logger,
        });
        process.stdout.write(
          `snapshot ${manifest.id}: ${manifest.collections.length} collections, ${totalDocuments(manifest)} documents, ` +
            `${formatBytes(manifest.archive.sizeBytes)}, sha256 ${manifest.archive.sha256}, anonymized: ${manifest.anonymization.anonymized ? 'yes' : 'no'}\n`,
        );
      } finally {
        await client.close();
      }
    });
}
