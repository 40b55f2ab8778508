import type { MongoClient } from 'mongodb';
import { ExitCode, UserError } from '../errors.js';
import type { Logger } from '../ops/log.js';
import { serverVersion } from '../mongo/connect.js';
import { captureEvents, planCapture } from '../snapshot/capture.js';
import { toolVersion } from '../version.js';
import { checkRestoreTarget } from './guard.js';
import { writeIntoTarget } from './into-target.js';
import { LOCK_COLLECTION } from './lock.js';
import { assertCollectionsExist, selectCollections } from './select.js';
import { isTempName } from './temp-names.js';

/** Clones copy data as it is, so they may only read databases that are already anonymized. */
const CLONE_SOURCES = [/^syrf_staging$/, /^syrf_pr_\d+$/];

export interface CloneOptions {
  client: MongoClient;
  from: string;
  target: string;
  collections?: string[];
  guard?: { allowlist?: RegExp[]; productionNames?: string[] };
  holder: string;
  logger: Logger;
}

export interface CloneResult {
  from: string;
  target: string;
  collections: Array<{ name: string; documents: number }>;
  documents: number;
}

/** The `staging` data-source policy: staging → a PR database, with the restore's guard and atomicity. */
export async function cloneDatabase(options: CloneOptions): Promise<CloneResult> {
  if (!CLONE_SOURCES.some((pattern) => pattern.test(options.from))) {
    throw new UserError(`refusing to clone from "${options.from}": clones copy data without anonymizing it`, {
      hint: 'clone only from syrf_staging (or another preview database); production data reaches previews only as anonymized snapshots (`syrf-db restore`)',
      exitCode: ExitCode.refused,
    });
  }
  if (options.from === options.target) {
    throw new UserError(`--from and --target are both "${options.target}"`, { exitCode: ExitCode.usage });
  }
  checkRestoreTarget({ target: options.target, sourceDb: options.from, ...options.guard });

  const plan = await planCapture(options.client, options.from, (name) => name === LOCK_COLLECTION || isTempName(name));
  const available = plan.collections.map((c) => c.name);
  const wanted = options.collections?.length ? options.collections : available;
  assertCollectionsExist(wanted, available, `database ${options.from}`);

  const events = captureEvents(options.client, plan, {
    serverVersion: await serverVersion(options.client),
    toolVersion,
    parallelCollections: 2,
  });
  const loaded = await writeIntoTarget(options.client.db(options.target), selectCollections(events, new Set(wanted)), {
    logger: options.logger,
    holder: options.holder,
    label: `clone ${options.from} → ${options.target}`,
  });
  const collections = loaded.map((c) => ({ name: c.name, documents: c.documents }));
  return { from: options.from, target: options.target, collections, documents: collections.reduce((s, c) => s + c.documents, 0) };
}
