import type { MongoClient } from 'mongodb';
import { ExitCode, UserError } from '../errors.js';
import type { Logger } from '../ops/log.js';
import { serverVersion } from '../mongo/connect.js';
import { captureEvents, planCapture } from '../mongo/capture.js';
import { toolVersion } from '../version.js';
import { checkRestoreTarget } from './guard.js';
import { countsOf, writeIntoTarget, type CollectionCounts } from './into-target.js';
import { chooseCollections, selectCollections } from './select.js';
import { isRestoreInternal } from '../mongo/temp-names.js';
import { watchStopSignals } from './stop-signals.js';

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

export interface CloneResult extends CollectionCounts {
  from: string;
  target: string;
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

  const plan = await planCapture(options.client, options.from, isRestoreInternal);
  const wanted = chooseCollections(options.collections, plan.collections.map((c) => c.name), `database ${options.from}`);

  const events = captureEvents(options.client, plan, {
    serverVersion: await serverVersion(options.client),
    toolVersion,
    parallelCollections: 2,
  });
  const label = `clone ${options.from} → ${options.target}`;
  const stop = watchStopSignals(options.logger, label);
  let loaded;
  try {
    loaded = await writeIntoTarget(options.client.db(options.target), selectCollections(events, wanted), {
      logger: options.logger,
      holder: options.holder,
      label,
      signal: stop.signal,
    });
    stop.throwIfStoppedAfterSwap(`${options.target} holds a copy of ${options.from}`);
  } finally {
    stop.dispose();
  }
  return { from: options.from, target: options.target, ...countsOf(loaded) };
}
