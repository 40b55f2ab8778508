import { MongoClient, MongoServerSelectionError, MongoParseError } from 'mongodb';
import { UserError } from '../errors.js';

export interface ConnectOptions {
  /** How long to look for a reachable server before giving up. */
  serverSelectionTimeoutMs?: number;
  appName?: string;
}

/** Connects and pings, turning the driver's failures into one actionable error. */
export async function connectMongo(uri: string, options: ConnectOptions = {}): Promise<MongoClient> {
  let client: MongoClient;
  try {
    client = new MongoClient(uri, {
      serverSelectionTimeoutMS: options.serverSelectionTimeoutMs ?? Number(process.env.SYRF_MONGO_TIMEOUT_MS ?? 15_000),
      appName: options.appName ?? 'syrf-db-tools',
      // Large batches of raw documents; compression is left to the server's defaults.
      maxPoolSize: 16,
    });
  } catch (error) {
    if (error instanceof MongoParseError || error instanceof TypeError) {
      throw new UserError(`the MongoDB URI ${redactUri(uri)} is not valid: ${(error as Error).message}`, {
        hint: 'use mongodb://HOST:PORT/ or mongodb+srv://HOST/ (credentials from a Secret, never on the command line in jobs)',
        exitCode: 2,
      });
    }
    throw error;
  }
  try {
    await client.connect();
    await client.db('admin').command({ ping: 1 });
    return client;
  } catch (error) {
    await client.close().catch(() => undefined);
    if (error instanceof MongoServerSelectionError) {
      throw new UserError(`cannot reach MongoDB at ${redactUri(uri)}: ${error.message}`, {
        hint: 'check the URI, that the server is running and reachable from here, and the network policy',
        cause: error,
      });
    }
    const message = error instanceof Error ? error.message : String(error);
    if (/auth/i.test(message)) {
      throw new UserError(`MongoDB at ${redactUri(uri)} rejected the credentials: ${message}`, {
        hint: 'check the user and password in the connection-string Secret',
        cause: error,
      });
    }
    throw new UserError(`connecting to MongoDB at ${redactUri(uri)} failed: ${message}`, { cause: error });
  }
}

/** The URI without user and password, safe for logs, audit lines and manifests. */
export function redactUri(uri: string): string {
  return uri.replace(/^(mongodb(?:\+srv)?:\/\/)[^@/]*@/, '$1***@');
}

/** Host names of a URI, for the manifest (no credentials, no options). */
export function hostsOf(uri: string): string[] {
  const match = /^mongodb(?:\+srv)?:\/\/(?:[^@/]*@)?([^/?]*)/.exec(uri);
  return match?.[1] ? match[1].split(',').filter(Boolean) : [];
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
