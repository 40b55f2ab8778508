/**
 * Free-text scrubbing: kept strings (abstracts, notes, titles) are searched
 * for personal data with the detector in pii.ts, and each finding is
 * replaced by a keyed pseudonym of the same kind, so the text still reads
 * naturally and one address gets one pseudonym wherever it appears (the same
 * one `hash_email` gives the field holding it).
 */
import { findPiiSpans, mayHoldFinding, type PiiKind } from './pii.js';
import { scrubProseNames } from './prose-names.js';
import { pseudonymousEmail } from './transforms/hash-email.js';
import type { TransformContext } from './transforms/types.js';
import { hexPrefix } from './transforms/values.js';

/** The detector's own shortcut, re-exported for callers that test text before scrubbing it. */
export { mayHoldFinding };

/** `text` with every finding and every introduced person name (prose-names.ts) replaced; the same string object when there is none. */
export function scrubText(text: string, context: TransformContext): string {
  return scrubProseNames(scrubPii(text, context), context);
}

/** findPiiSpans applies the detector's own shortcut (text that cannot hold a finding) first. */
function scrubPii(text: string, context: TransformContext): string {
  const spans = findPiiSpans(text);
  if (spans.length === 0) return text;
  let out = '';
  let at = 0;
  for (const span of spans) {
    out += text.slice(at, span.start) + pseudonymOf(span.kind, text.slice(span.start, span.end), context);
    at = span.end;
  }
  return out + text.slice(at);
}

function pseudonymOf(kind: PiiKind, original: string, context: TransformContext): string {
  switch (kind) {
    case 'email':
      return pseudonymousEmail(context, original.toLowerCase());
    case 'encoded-email':
      return pseudonymousEmail(context, safeDecode(original).toLowerCase());
    case 'phone':
      return keyedDigits(original, context.mac('scrub:phone', original.replace(/\D/g, '')));
    case 'orcid':
      return keyedDigits(original, context.mac('scrub:orcid', original.toUpperCase()));
    case 'ip-address':
      return `10.${[0, 1, 2].map((i) => context.mac('scrub:ip', original)[i]!).join('.')}`;
    case 'auth-id':
      return `anon|${hexPrefix(context.mac('hash', original), 24)}`;
    case 'profile-url':
      return `https://profile-${hexPrefix(context.mac('scrub:url', original), 16)}.anonymized.syrf.local/`;
    default:
      return `masked-${hexPrefix(context.mac('mask', original), 16)}`;
  }
}

/** The same shape ("+44 131 650 1000" → "+72 905 118 4630"): every digit replaced from the MAC, separators kept. */
function keyedDigits(original: string, mac: Buffer): string {
  let out = '';
  let d = 0;
  for (const c of original) {
    if (c >= '0' && c <= '9') out += String(mac[d++ % mac.length]! % 10);
    else if (c === 'X' || c === 'x') out += String(mac[d++ % mac.length]! % 10);
    else out += c;
  }
  return out;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
