import { ExitCode, UserError } from '../errors.js';
import type { Readable } from 'node:stream';

export interface StoredObject {
  /** Key relative to the store root, always with `/` separators. */
  key: string;
  size: number;
  updated: Date;
  /** GCS object generation (absent for file stores). */
  generation?: string;
}

/**
 * Where snapshots live. Keys are relative to the store's root
 * (`gs://bucket/prefix` or `file://dir`). Writes are all-or-nothing: a
 * reader never sees a half-written object under its final key.
 */
export interface Store {
  /** The store's URL, for messages (never contains credentials). */
  readonly url: string;
  /** With `ifAbsent`, refuses (AlreadyExistsError) when the key exists, atomically at the store. */
  write(key: string, body: Readable | Buffer | string, options?: WriteOptions): Promise<void>;
  /** Throws a UserError naming the object when it does not exist. */
  read(key: string): Promise<Readable>;
  readText(key: string): Promise<string>;
  /** Bytes [start, end) of an object, as stored (never decompressed in transit); a short object yields fewer bytes. */
  readRange(key: string, start: number, end: number): Promise<Readable>;
  /** null when absent. */
  stat(key: string): Promise<StoredObject | null>;
  /** Every object whose key starts with `prefix`, at any depth. */
  list(prefix: string): Promise<StoredObject[]>;
  /** Deleting an absent object is not an error. */
  delete(key: string): Promise<void>;
  /** Full URL of one object, for messages. */
  describe(key: string): string;
}

export interface WriteOptions {
  contentType?: string;
  ifAbsent?: boolean;
}

/** A write with `ifAbsent` found the key taken: another writer got there first. */
export class AlreadyExistsError extends UserError {
  constructor(where: string) {
    super(`${where} already exists: another run wrote it first`, {
      hint: 'two runs with the same snapshot id ran at once; this one stopped without touching the other\'s objects. Use another --id, or retry once the other run finished',
      exitCode: ExitCode.refused,
    });
    this.name = 'AlreadyExistsError';
  }
}

export function joinKey(...parts: string[]): string {
  return parts
    .map((p) => p.replace(/^\/+|\/+$/g, ''))
    .filter(Boolean)
    .join('/');
}
