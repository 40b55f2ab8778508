import { ExitCode, UserError } from '../errors.js';
import type { Readable } from 'node:stream';

export interface StoredObject {
  /** Key relative to the store root, always with `/` separators. */
  key: string;
  size: number;
  updated: Date;
  /**
   * Which version of the object this is: the GCS generation, or for a file
   * store `f:<device>:<inode>:<mtime ns>:<size>` (a write always creates a
   * new file and renames it into place, so a replaced object never keeps it).
   */
  generation: string;
}

/** What a write created: the exact version readers can later insist on. */
export interface WrittenObject {
  generation: string;
}

export interface ReadOptions {
  /** Read exactly this version; any other (or none) is refused with a GenerationMismatchError. */
  generation?: string;
}

export interface DeleteOptions {
  /** Delete only this version: another version under the key is left alone and refused. */
  ifGeneration?: string;
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
  write(key: string, body: Readable | Buffer | string, options?: WriteOptions): Promise<WrittenObject>;
  /** Throws a UserError naming the object when it does not exist. */
  read(key: string, options?: ReadOptions): Promise<Readable>;
  readText(key: string): Promise<string>;
  /** Bytes [start, end) of an object, as stored (never decompressed in transit); a short object yields fewer bytes. */
  readRange(key: string, start: number, end: number, options?: ReadOptions): Promise<Readable>;
  /** null when absent. */
  stat(key: string): Promise<StoredObject | null>;
  /** Every object whose key starts with `prefix`, at any depth. */
  list(prefix: string): Promise<StoredObject[]>;
  /** Deleting an absent object is not an error. */
  delete(key: string, options?: DeleteOptions): Promise<void>;
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

/** The object under a key is not the version a manifest (or an earlier look) named. */
export class GenerationMismatchError extends UserError {
  constructor(where: string, expected: string, found: string | null) {
    super(
      found === null
        ? `${where} no longer exists in the version its manifest names (generation ${expected}): it was replaced or deleted after the manifest was written`
        : `${where} is not the version its manifest names: the manifest says generation ${expected}, the store holds ${found}; it was replaced after the manifest was written`,
      {
        hint: 'nothing was written from it; run `syrf-db verify` on the snapshot and restore another id, or re-run the snapshot (a new snapshot records the new version)',
        exitCode: ExitCode.corrupt,
      },
    );
    this.name = 'GenerationMismatchError';
  }
}

/** A conditional delete found another version than the one it was told to remove: another run changed the key. */
export class ChangedUnderUsError extends UserError {
  constructor(where: string, expected: string, found: string) {
    super(`${where} changed while this run was replacing it (expected generation ${expected}, found ${found}): another run is writing the same snapshot`, {
      hint: 'this run stopped without touching the other run\'s objects; use another --id, or retry once the other run finished',
      exitCode: ExitCode.refused,
    });
    this.name = 'ChangedUnderUsError';
  }
}
