/**
 * One structured line per access to snapshot data: who read or wrote
 * which snapshot (by id and sha256), into which database, when, and how it
 * ended. Lines go to stderr, where the cluster's log pipeline keeps them,
 * and optionally to a file. They are JSON whatever the log format, so they
 * can be filtered on `"audit":true`.
 */
import { appendFile } from 'node:fs/promises';
import type { Identity } from './identity.js';
import { redactSecrets, redactValue } from './redact.js';

export type AuditEvent = 'snapshot.read' | 'snapshot.write' | 'restore' | 'clone';
export type AuditOutcome = 'success' | 'failure';

export interface AuditWhat {
  /** The snapshot id (resolved, not `latest`, once known). */
  snapshotId: string | null;
  sha256: string | null;
  /** For clones: the database copied from. */
  sourceDb?: string;
}

export interface AuditRecord {
  audit: true;
  event: AuditEvent;
  who: Identity;
  what: AuditWhat;
  where: { target: string | null };
  /** When the operation started (ISO 8601, UTC). */
  when: string;
  outcome: AuditOutcome;
  durationMs: number;
  documents: number | null;
  error?: string;
}

export interface AuditInput {
  event: AuditEvent;
  who: Identity;
  what: AuditWhat;
  target: string | null;
  startedAt: Date;
  finishedAt: Date;
  outcome: AuditOutcome;
  documents?: number | null;
  error?: unknown;
}

export function auditRecord(input: AuditInput): AuditRecord {
  return {
    audit: true,
    event: input.event,
    who: input.who,
    what: input.what,
    where: { target: input.target },
    when: input.startedAt.toISOString(),
    outcome: input.outcome,
    durationMs: Math.max(0, input.finishedAt.getTime() - input.startedAt.getTime()),
    documents: input.documents ?? null,
    ...(input.error === undefined ? {} : { error: redactCredentials(errorMessage(input.error)) }),
  };
}

export interface AuditWriteOptions {
  /** Also append the line to this file (`--audit-log FILE`). */
  file?: string;
  /** Defaults to stderr. */
  write?: (line: string) => void;
}

export async function writeAuditRecord(record: AuditRecord, options: AuditWriteOptions = {}): Promise<void> {
  // Targets, snapshot ids and errors all pass the one redaction before they are written anywhere.
  const line = JSON.stringify(redactValue(record));
  (options.write ?? ((text: string) => process.stderr.write(text + '\n')))(line);
  // One append of one line: O_APPEND keeps concurrent writers' lines whole.
  if (options.file) await appendFile(options.file, line + '\n', 'utf8');
}

export interface AuditedOperation<T> {
  event: AuditEvent;
  who: Identity;
  /** What is known before the run (e.g. the requested id); `describe` can complete it. */
  what: AuditWhat;
  target: string | null;
  /** Details only the result knows: the resolved snapshot id, its sha256, the documents written. */
  describe?: (result: T) => { what?: Partial<AuditWhat>; documents?: number };
  now?: () => Date;
}

/**
 * Runs `operation` and writes its audit line whether it succeeds or fails;
 * the operation's own error is rethrown unchanged.
 */
export async function audited<T>(spec: AuditedOperation<T>, operation: () => Promise<T>, options: AuditWriteOptions = {}): Promise<T> {
  const now = spec.now ?? (() => new Date());
  const startedAt = now();
  const base = { event: spec.event, who: spec.who, target: spec.target, startedAt };
  let result: T;
  try {
    result = await operation();
  } catch (error) {
    await writeAuditRecord(auditRecord({ ...base, what: spec.what, finishedAt: now(), outcome: 'failure', error }), options).catch(() => undefined);
    throw error;
  }
  const details = spec.describe?.(result) ?? {};
  await writeAuditRecord(
    auditRecord({ ...base, what: { ...spec.what, ...details.what }, finishedAt: now(), outcome: 'success', documents: details.documents ?? null }),
    options,
  );
  return result;
}

/** Connection strings in error messages must not carry passwords into logs (the project's one redaction). */
export function redactCredentials(text: string): string {
  return redactSecrets(text);
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
