import type { TestProject } from 'vitest/node';
import { ensureServerBinaries, startFakeGcs, startFerretDb, type RunningServer } from './servers.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A MongoDB-compatible server: MONGODB_URI when set, else a throwaway FerretDB. */
    mongodbUri: string;
    /** fake-gcs-server's base URL, for @google-cloud/storage's apiEndpoint. */
    gcsEndpoint: string;
    /** True when the tests run against the bundled FerretDB (some MongoDB features are missing). */
    isFerretDb: boolean;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const binDir = ensureServerBinaries();
  const started: RunningServer[] = [];
  const external = process.env.MONGODB_URI;
  let mongodbUri = external;
  if (!mongodbUri) {
    const ferret = await startFerretDb(binDir);
    started.push(ferret);
    mongodbUri = ferret.url;
  }
  const gcs = await startFakeGcs(binDir);
  started.push(gcs);

  project.provide('mongodbUri', mongodbUri);
  project.provide('gcsEndpoint', gcs.url);
  project.provide('isFerretDb', !external);

  return async () => {
    await Promise.all(started.map((s) => s.stop()));
  };
}
