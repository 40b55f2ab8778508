/**
 * Free-text scrubbing: kept strings (abstracts, notes, titles) are searched
 * for personal data with the detector in pii.ts, and each finding is
 * replaced by a keyed pseudonym of the same kind, so the text still reads
 * naturally and one address gets one pseudonym wherever it appears (the same
 * one `hash_email` gives the field holding it).
 */
import { findPiiSpans, type PiiKind } from './pii.js';
import { scrubProseNames } from './prose-names.js';
import { pseudonymousEmail } from './transforms/hash-email.js';
import type { TransformContext } from './transforms/types.js';
import { hexPrefix } from './transforms/values.js';

/** Shorter than the shortest finding the detector knows (a@b.cd). */
const MIN_FINDING = 6;

/**
 * Text without any of these characters cannot hold a finding, so the
 * detector is not run on it (most prose of abstracts and notes):
 *  - emails need `@` or `%40`; auth ids `|`; profile URLs `/`; phones, ORCID
 *    iDs and IP addresses digits;
 *  - a base64 run decodes to an `@` only if it holds `Q` (the `@` as a
 *    quad's first byte), one of `A`–`D` (second byte) or `A` (third byte);
 *  - disguised ones need a normalizing character (pii-normalize.ts): `&` `\`
 *    `=` `[` `(` `{`, a non-ASCII character, or a spelled-out ` at `/` dot `;
 *    IPv6 addresses a `:`.
 * `test/unit/anonymize/scrub.test.ts` checks this against the detector.
 */
const MAY_HOLD_FINDING = /[@%|/0-9A-DQ:&\\=[({\u0080-\uffff]|\s(?:[aA][tT]|[dD][oO][tT])\s/;

/** False when `text` cannot hold anything the detector finds. */
export function mayHoldFinding(text: string): boolean {
  return text.length >= MIN_FINDING && MAY_HOLD_FINDING.test(text);
}

/** `text` with every finding and every introduced person name (prose-names.ts) replaced; the same string object when there is none. */
export function scrubText(text: string, context: TransformContext): string {
  return scrubProseNames(scrubPii(text, context), context);
}

function scrubPii(text: string, context: TransformContext): string {
  if (!mayHoldFinding(text)) return text;
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
