import { MongoClient, MongoServerSelectionError } from 'mongodb';
import { ExitCode, UserError } from '../errors.js';
import { redactSecrets } from '../ops/redact.js';
import { hostsOf, parseMongoUri } from './uri.js';

export { hostsOf };

export interface ConnectOptions {
  /** How long to look for a reachable server before giving up. */
  serverSelectionTimeoutMs?: number;
  appName?: string;
}

export const MONGO_TIMEOUT_ENV = 'SYRF_MONGO_TIMEOUT_MS';
const DEFAULT_TIMEOUT_MS = 15_000;
const MAX_TIMEOUT_MS = 3_600_000;

/**
 * SYRF_MONGO_TIMEOUT_MS as milliseconds. The driver reads 0 as "wait
 * forever", which is what an empty or misspelt value used to become.
 */
export function mongoTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[MONGO_TIMEOUT_ENV];
  if (raw === undefined) return DEFAULT_TIMEOUT_MS;
  const value = raw.trim();
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!(n >= 1 && n <= MAX_TIMEOUT_MS)) {
    throw new UserError(`${MONGO_TIMEOUT_ENV} is ${JSON.stringify(raw)}, not a whole number of milliseconds from 1 to ${MAX_TIMEOUT_MS}`, {
      hint: `set it to e.g. ${DEFAULT_TIMEOUT_MS}, or unset it for the default`,
      exitCode: ExitCode.usage,
    });
  }
  return n;
}

/** Connects and pings, turning the driver's failures into one actionable error without credentials. */
export async function connectMongo(uri: string, options: ConnectOptions = {}): Promise<MongoClient> {
  parseMongoUri(uri);
  const serverSelectionTimeoutMS = options.serverSelectionTimeoutMs ?? mongoTimeoutMs();
  let client: MongoClient;
  try {
    client = new MongoClient(uri, {
      serverSelectionTimeoutMS,
      appName: options.appName ?? 'syrf-db-tools',
      // Large batches of raw documents; compression is left to the server's defaults.
      maxPoolSize: 16,
    });
  } catch (error) {
    // The driver's parse errors come from more than one class (one per package), so none is trusted by type.
    throw new UserError(`the MongoDB URI ${redactUri(uri)} is not valid: ${redactSecrets((error as Error).message ?? String(error))}`, {
      hint: 'use mongodb://HOST:PORT/ or mongodb+srv://HOST/ (credentials from a Secret, never on the command line in jobs)',
      exitCode: ExitCode.usage,
    });
  }
  try {
    await client.connect();
    await client.db('admin').command({ ping: 1 });
    return client;
  } catch (error) {
    await client.close().catch(() => undefined);
    const message = redactSecrets(error instanceof Error ? error.message : String(error));
    if (error instanceof MongoServerSelectionError) {
      throw new UserError(`cannot reach MongoDB at ${redactUri(uri)}: ${message}`, {
        hint: 'check the URI, that the server is running and reachable from here, and the network policy',
      });
    }
    if (/auth/i.test(message)) {
      throw new UserError(`MongoDB at ${redactUri(uri)} rejected the credentials: ${message}`, {
        hint: 'check the user and password in the connection-string Secret',
      });
    }
    throw new UserError(`connecting to MongoDB at ${redactUri(uri)} failed: ${message}`);
  }
}

/** The URI without user info or secret options, safe for logs, audit lines and manifests. */
export function redactUri(uri: string): string {
  return redactSecrets(uri);
}

export async function serverVersion(client: MongoClient): Promise<string> {
  const info = await client.db('admin').command({ buildInfo: 1 });
  // mongorestore refuses archives whose header version is not dotted numbers.
  return typeof info.version === 'string' && /^\d+\.\d+/.test(info.version) ? info.version : '0.0.0';
}

/** Names of the databases on the server, for "unknown database" messages. */
export async function databaseNames(client: MongoClient): Promise<string[]> {
  const result = await client.db('admin').admin().listDatabases({ nameOnly: true });
  return result.databases.map((d) => d.name).sort();
}
