/** Helpers for e2e tests: clients for the real servers from the global setup. */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Storage } from '@google-cloud/storage';
import { MongoClient } from 'mongodb';
import { inject } from 'vitest';

export function mongodbUri(): string {
  return inject('mongodbUri');
}

export function gcsEndpoint(): string {
  return inject('gcsEndpoint');
}

export function isFerretDb(): boolean {
  return inject('isFerretDb');
}

/** A database name no other test uses; `prefix` lets guards see e.g. `syrf_pr_`. */
export function uniqueDbName(prefix = 'test_'): string {
  return `${prefix}${Date.now() % 1_000_000}${randomBytes(3).readUIntBE(0, 3)}`;
}

export async function connectMongo(): Promise<MongoClient> {
  const client = new MongoClient(mongodbUri(), { serverSelectionTimeoutMS: 10_000 });
  await client.connect();
  return client;
}

/** The real @google-cloud/storage client pointed at fake-gcs-server. */
export function fakeGcsStorage(): Storage {
  return new Storage({ apiEndpoint: gcsEndpoint(), projectId: 'test-project', credentials: undefined, token: 'fake' } as never);
}

export async function createBucket(prefix = 'syrf-test-'): Promise<string> {
  const name = `${prefix}${randomBytes(4).toString('hex')}`;
  await fakeGcsStorage().createBucket(name);
  return name;
}

export function tempDir(prefix = 'syrf-test-'): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}
