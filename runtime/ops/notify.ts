/**
 * One chat message per staging refresh, failed snapshot and failed drill,
 * POSTed as Slack-compatible JSON (`text` + `blocks`) to the webhook named
 * by SYRF_NOTIFY_WEBHOOK_URL (a Secret in the cluster).
 *
 * A message is built only from typed facts: ids, ages, counts, durations,
 * an outcome and a reason from a fixed vocabulary. Error messages are never
 * copied into it, because a database error can quote the document that
 * caused it (a duplicate key, a validation failure) and chat channels are
 * not where anonymized-or-not data may end up. The webhook URL is itself a
 * credential (whoever has it can post), so it is never logged either.
 */
import { ExitCode, isUserError } from '../errors.js';
import type { Logger } from './log.js';

export const NOTIFY_WEBHOOK_ENV = 'SYRF_NOTIFY_WEBHOOK_URL';

export type NotifyKind = 'staging-refresh' | 'snapshot' | 'drill';
export type NotifyOutcome = 'success' | 'failure' | 'refused';

/** Why a run did not succeed, in words that can never carry data. */
export const REASONS = {
  'stale-snapshot': 'the latest snapshot is older than the allowed age',
  'unverified-snapshot': 'the latest snapshot failed verification',
  'not-anonymized': 'the latest snapshot is not anonymized',
  'drill-mismatch': 'the restored data did not match the manifest',
  refused: 'a safety check refused the operation',
  corrupt: 'the snapshot data is corrupt or does not match its manifest',
  usage: 'the job was invoked with invalid options',
  error: 'the job failed; see its log',
} as const;
export type Reason = keyof typeof REASONS;

export interface Notification {
  kind: NotifyKind;
  outcome: NotifyOutcome;
  /** `scheduled` (CronJob) or `manual` (workflow, by hand). */
  trigger?: 'scheduled' | 'manual';
  target?: string;
  snapshotId: string | null;
  /** Seconds between the snapshot's completion and the start of this run. */
  sourceAgeSeconds: number | null;
  collections: number | null;
  documents: number | null;
  durationSeconds: number;
  reason?: Reason;
  /** For a demoted `latest`: the snapshot it points to now. */
  latestNow?: string | null;
}

const TITLES: Record<NotifyKind, string> = { 'staging-refresh': 'Staging refresh', snapshot: 'Snapshot', drill: 'Restore drill' };

/** Maps a job's error to a reason without reading its message. */
export function reasonOf(error: unknown): Reason {
  if (!isUserError(error)) return 'error';
  switch (error.exitCode) {
    case ExitCode.refused:
      return 'refused';
    case ExitCode.corrupt:
      return 'corrupt';
    case ExitCode.usage:
      return 'usage';
    default:
      return 'error';
  }
}

export function formatAge(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return 'unknown';
  const s = Math.max(0, Math.round(seconds));
  if (s < 3600) return `${Math.round(s / 60)} min`;
  if (s < 2 * 86400) return `${(s / 3600).toFixed(1)} h`;
  return `${(s / 86400).toFixed(1)} d`;
}

/** The message body. Every value comes from a typed fact; no free text from the run. */
export function slackMessage(n: Notification): { text: string; blocks: unknown[] } {
  const icon = n.outcome === 'success' ? ':white_check_mark:' : n.outcome === 'refused' ? ':no_entry:' : ':x:';
  const headline = `${icon} ${TITLES[n.kind]}${n.trigger ? ` (${n.trigger})` : ''}: ${n.outcome}${n.target ? ` - ${n.target}` : ''}`;
  const fields: Array<[string, string]> = [
    ['Snapshot', n.snapshotId ?? 'unknown'],
    ['Source age', formatAge(n.sourceAgeSeconds)],
    ['Collections', n.collections === null ? '-' : String(n.collections)],
    ['Documents', n.documents === null ? '-' : String(n.documents)],
    ['Duration', `${Math.round(n.durationSeconds)} s`],
    ['Outcome', n.outcome],
  ];
  if (n.reason) fields.push(['Reason', REASONS[n.reason]]);
  if (n.latestNow !== undefined) fields.push(['latest now', n.latestNow ?? 'unchanged (no earlier verified snapshot)']);
  const text = `${headline}\n${fields.map(([k, v]) => `${k}: ${v}`).join(' | ')}`;
  return {
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `*${headline}*` } },
      { type: 'section', fields: fields.map(([k, v]) => ({ type: 'mrkdwn', text: `*${k}*\n${v}` })) },
    ],
  };
}

/** Replaces every occurrence of the secret (and its URL-decoded form) in a message. */
export function redact(message: string, secret: string): string {
  if (!secret) return message;
  let out = message;
  const forms = new Set([secret, safeDecode(secret), normalized(secret)]);
  // The path (and query) is where webhook services put the token; a message may carry it alone.
  const tail = pathAndQuery(secret);
  if (tail.length >= 8) for (const form of [tail, safeDecode(tail)]) forms.add(form);
  // Longest first, so a shorter form never leaves the rest of a longer one behind.
  for (const form of [...forms].sort((a, b) => b.length - a.length)) if (form) out = out.split(form).join(`$${NOTIFY_WEBHOOK_ENV}`);
  return out;
}

function pathAndQuery(value: string): string {
  try {
    const url = new URL(value);
    return `${url.pathname}${url.search}`;
  } catch {
    return '';
  }
}

/** fetch reports the URL in its normalized spelling (lower-case host, trailing slash). */
function normalized(value: string): string {
  try {
    return new URL(value).toString();
  } catch {
    return value;
  }
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

export interface SendOptions {
  logger: Logger;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

export type SendResult = 'sent' | 'not-configured' | 'failed';

/**
 * Never throws and never fails the job: the notification reports the
 * outcome, it is not part of it. One POST, no retry, so a receiver never
 * sees the same run twice.
 */
export async function sendNotification(notification: Notification, options: SendOptions): Promise<SendResult> {
  const url = (options.env ?? process.env)[NOTIFY_WEBHOOK_ENV]?.trim();
  if (!url) {
    options.logger.debug(`no ${NOTIFY_WEBHOOK_ENV}: notification not sent`);
    return 'not-configured';
  }
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new Error('the webhook must be an http(s) URL');
    const response = await fetch(parsed, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(slackMessage(notification)),
      redirect: 'error',
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
    });
    // The body of an error answer is not read: some receivers echo the request, URL included.
    if (!response.ok) throw new Error(`the webhook answered ${response.status}`);
    options.logger.info(`notified: ${notification.kind} ${notification.outcome}`);
    return 'sent';
  } catch (error) {
    const detail = error instanceof Error ? `${error.message}${error.cause instanceof Error ? ` (${error.cause.message})` : ''}` : String(error);
    options.logger.warn(`could not send the ${notification.kind} notification to $${NOTIFY_WEBHOOK_ENV}: ${redact(detail, url)}`);
    return 'failed';
  }
}
