import { UserError } from '../errors.js';
import { FileStore } from './file-store.js';
import { GcsStore } from './gcs-store.js';
import type { Store } from './store.js';
import { readPolicyFromEnv } from './resilient-read.js';

export interface OpenStoreOptions {
  /** Defaults to SYRF_GCS_ENDPOINT (e.g. a local fake-gcs-server). */
  gcsEndpoint?: string;
  env?: NodeJS.ProcessEnv;
}

/** `gs://bucket[/prefix]` or `file://dir` (relative or absolute). */
export function openStore(url: string, options: OpenStoreOptions = {}): Store {
  const env = options.env ?? process.env;
  if (url.startsWith('gs://')) {
    const rest = url.slice('gs://'.length);
    const [bucket = '', ...prefix] = rest.split('/');
    if (!/^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/.test(bucket)) {
      throw new UserError(`"${url}" does not name a valid GCS bucket`, { hint: 'use gs://BUCKET or gs://BUCKET/PREFIX' });
    }
    const apiEndpoint = options.gcsEndpoint ?? env.SYRF_GCS_ENDPOINT;
    const maxRetries = env.SYRF_GCS_MAX_RETRIES === undefined ? undefined : Number(env.SYRF_GCS_MAX_RETRIES);
    return new GcsStore(bucket, prefix.join('/'), {
      readPolicy: readPolicyFromEnv(env),
      ...(apiEndpoint ? { apiEndpoint } : {}),
      ...(maxRetries !== undefined && Number.isInteger(maxRetries) ? { maxRetries } : {}),
    });
  }
  if (url.startsWith('file://')) {
    const path = url.slice('file://'.length);
    if (!path) throw new UserError(`"${url}" names no directory`, { hint: 'use file://DIR, e.g. file://./snapshots' });
    return new FileStore(decodeURIComponent(path), { readPolicy: readPolicyFromEnv(env) });
  }
  throw new UserError(`unsupported store "${url}"`, {
    hint: 'use gs://BUCKET[/PREFIX] for Cloud Storage or file://DIR for a local directory',
  });
}
