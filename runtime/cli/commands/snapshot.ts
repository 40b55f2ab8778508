import type { Command } from 'commander';
import { ExitCode, UserError } from '../../errors.js';
import { connectMongo } from '../../mongo/connect.js';
import { openStore } from '../../store/open.js';
import { takeSnapshot } from '../../snapshot/take.js';
import { totalDocuments, type Manifest } from '../../snapshot/manifest.js';
import { runJob, withJobOptions, type JobCliOptions } from '../job.js';
import { loggerFor, mongoUriOption, parseList } from '../context.js';
import { parseCount, parsePositive } from '../options.js';
import { formatBytes } from '../format.js';
import { isExcluded, loadRules } from '../../anonymize/rules.js';
import { loadAnonymizationKey } from '../../anonymize/key.js';
import { captureAnonymization } from '../../snapshot/anonymization-stage.js';
import { ALLOW_UNSIGNED_ENV, checkSigningRequirement, loadSigningKey, SIGNING_KEY_ENV, unsignedAllowedByEnv } from '../../snapshot/signature.js';
import { parseSampleSize, type SampleSize } from '../../anonymize/check-stage.js';
import { InvalidArgumentError } from 'commander';
import { failureReason } from '../../ops/reporting.js';
import { defaultSnapshotId, isSnapshotId } from '../../store/layout.js';

function sampleOption(value: string): SampleSize {
  try {
    return parseSampleSize(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

interface SnapshotOptions {
  uri?: string;
  db: string;
  to: string;
  id?: string;
  exclude?: string[];
  parallel: number;
  gzipLevel: number;
  schemaVersionField: string;
  anonymize?: boolean;
  rules?: string;
  keyFile?: string;
  checkSample: SampleSize;
  strict?: boolean;
  signingKeyFile?: string;
  allowUnsigned?: boolean;
  preview: boolean;
}

type SnapshotCliOptions = SnapshotOptions & JobCliOptions;

export function registerSnapshotCommand(program: Command): void {
  withJobOptions(program.command('snapshot'))
    .description('dump a database into STORE/prod/<id>/dump.gz (mongodump archive, gzip) + manifest.json, verify it, then move latest.txt')
    .option('--uri <uri>', 'MongoDB connection string (default: $MONGO_URI)')
    .requiredOption('--db <name>', 'database to capture, e.g. syrftest')
    .requiredOption('--to <store>', 'gs://BUCKET[/PREFIX] or file://DIR')
    .option('--id <id>', 'snapshot id (default: today as YYYY-MM-DD, UTC)')
    .option('--exclude <collections...>', 'collections to leave out (system.* always are)', (v: string, prev: string[] = []) => [...prev, ...(parseList(v) ?? [])])
    .option('--parallel <n>', 'collections dumped at once', parsePositive, 4)
    .option('--gzip-level <n>', 'gzip compression level 1-9', parseCount, 6)
    .option('--schema-version-field <name>', 'top-level field recorded as schema version per collection', 'SchemaVersion')
    .option('--rules <file>', 'anonymization rules: their exclusions apply; with --anonymize their transforms too')
    .option('--anonymize', 'pseudonymize while dumping (needs --rules and the key); marks the manifest anonymized')
    .option('--key-file <path>', 'file holding the HMAC key (default: $SYRF_ANONYMIZATION_KEY)')
    .option('--signing-key-file <path>', `Ed25519 private key that signs the manifest (default: $${SIGNING_KEY_ENV})`)
    .option('--allow-unsigned', `development only: publish an anonymized snapshot without a signing key (also $${ALLOW_UNSIGNED_ENV}=development)`)
    .option('--check-sample <n|all>', 'documents per collection the coverage check reads while --anonymize runs (uniform sample), or all', sampleOption, 'all')
    .option('--strict', 'rules that match nothing (a typo, a field or collection that is gone) refuse the run too (`rules check` does this by default)')
    .option('--no-preview', 'with --anonymize: do not write the size-limited preview edition (preview.gz)')
    .action(async (opts: SnapshotCliOptions, cmd: Command) => {
      const logger = loggerFor(cmd);
      const mongoUri = mongoUriOption(opts.uri);
      if (opts.gzipLevel < 1 || opts.gzipLevel > 9) throw new UserError('--gzip-level must be 1-9', { exitCode: ExitCode.usage });
      if (opts.anonymize && !opts.rules) {
        throw new UserError('--anonymize needs --rules FILE', { hint: 'pass --rules rules/anonymization-rules.yaml', exitCode: ExitCode.usage });
      }
      const rules = opts.rules ? await loadRules(opts.rules) : undefined;
      // Fail before touching the database when the key is missing.
      const key = opts.anonymize ? await loadAnonymizationKey(opts.keyFile ? { keyFile: opts.keyFile } : {}) : undefined;
      const signingKey = await loadSigningKey(opts.signingKeyFile !== undefined ? { keyFile: opts.signingKeyFile } : {});
      const allowUnsigned = opts.allowUnsigned === true || unsignedAllowedByEnv();
      checkSigningRequirement({ anonymized: opts.anonymize === true, signed: signingKey !== undefined, allowUnsigned });
      if (opts.anonymize && !signingKey) {
        logger.warn(`development mode: the manifest is not signed (no --signing-key-file or $${SIGNING_KEY_ENV}); restores that check signatures refuse this snapshot`);
      }
      const store = openStore(opts.to);
      const excluded = new Set(opts.exclude ?? []);
      const isExcludedCollection = (name: string) => excluded.has(name) || (rules ? isExcluded(rules, name) : false);
      const manifest = await runJob(
        {
          job: 'snapshot',
          event: 'snapshot.write',
          target: store.url,
          what: { snapshotId: opts.id ?? null, sha256: null, sourceDb: opts.db },
          logger,
          options: opts,
          facts: (m: Manifest) => ({ documents: totalDocuments(m), bytes: m.archive.sizeBytes, what: { snapshotId: m.id, sha256: m.archive.sha256 } }),
          // A good snapshot is the nightly normal; only a failed one is worth a message.
          notify: (end) =>
            end.ok
              ? null
              : {
                  kind: 'snapshot',
                  outcome: 'failure',
                  trigger: 'scheduled',
                  // Only a well-formed id goes into a message; the default id is the run's UTC date.
                  snapshotId: opts.id === undefined ? defaultSnapshotId(new Date()) : isSnapshotId(opts.id) ? opts.id : null,
                  sourceAgeSeconds: null,
                  collections: null,
                  documents: null,
                  durationSeconds: end.durationSeconds,
                  reason: failureReason(end.error),
                },
        },
        () => capture(),
      );
      process.stdout.write(
        `snapshot ${manifest.id}: ${manifest.collections.length} collections, ${totalDocuments(manifest)} documents, ` +
          `${formatBytes(manifest.archive.sizeBytes)}, sha256 ${manifest.archive.sha256}, anonymized: ${manifest.anonymization.anonymized ? 'yes' : 'no'}\n`,
      );

      // Inside the job, so an unreachable server is audited and counted as a failed run too.
      async function capture(): Promise<Manifest> {
        const client = await connectMongo(mongoUri);
        try {
          return await takeSnapshot({
            client,
            uri: mongoUri,
            db: opts.db,
            store,
            ...(opts.id ? { id: opts.id } : {}),
            ...(signingKey ? { signingKey } : {}),
            allowUnsigned,
            isExcluded: isExcludedCollection,
            ...(rules && key ? { anonymization: captureAnonymization(rules, key, logger, { sample: opts.checkSample, strict: opts.strict === true }) } : {}),
            parallelCollections: opts.parallel,
            gzipLevel: opts.gzipLevel,
            schemaVersionField: opts.schemaVersionField,
            // The production job also writes the size-limited edition per-PR previews read.
            ...(rules && key && opts.preview ? { previewRules: rules } : {}),
            logger,
          });
        } finally {
          await client.close();
        }
      }
    });
}
