/**
 * Heuristics for values and field names that look like personal data. They
 * err towards reporting: a false alarm costs a `keep` with a reason, a miss
 * costs a leak.
 *
 * Everything here runs in time linear in the input. Values come from
 * production and may be many megabytes of hostile text, so no pattern may
 * backtrack over unbounded input: emails are found by scanning outwards from
 * each `@` (each character is visited a bounded number of times), and the few
 * regular expressions left either match a fixed-length shape or have
 * character classes that cannot overlap.
 */
import { isIP } from 'node:net';
import { NEEDS_WORK, normalizeForDetection, originalSpan } from './pii-normalize.js';

export type PiiKind =
  | 'email'
  | 'encoded-email'
  | 'phone'
  | 'person-name'
  | 'auth-id'
  | 'ip-address'
  | 'orcid'
  | 'handle'
  | 'profile-url'
  | 'birth-date'
  | 'postal-address';

export interface PiiSpan {
  /** UTF-16 offsets into the text, `end` exclusive. */
  start: number;
  end: number;
  kind: PiiKind;
}

/** Field names are matched on their tail only: every name pattern is anchored at the end. */
const NAME_TAIL = 64;
/** Keys longer than this are treated as data, not as field names. */
const MAX_PLAIN_KEY = 200;
const MIN_BASE64_RUN = 8;

const AUTH_PROVIDERS = 'auth0|google-oauth2|github|windowslive|facebook|twitter|linkedin|apple|samlp|waad|adfs|oidc|email|sms|orcid';
const AUTH_ID_WHOLE = new RegExp(`^(?:${AUTH_PROVIDERS})\\|[^\\s|]{4,}$`, 'i');
const AUTH_ID_ANYWHERE = new RegExp(`(?<![A-Za-z0-9-])(?:${AUTH_PROVIDERS})\\|[^\\s|]{4,}`, 'gi');
const ORCID = /(?<![0-9A-Za-z-])(?:\d{4}-\d{4}-\d{4}-\d{3}[\dXx]|000\d[ ]?\d{4}[ ]?\d{4}[ ]?\d{3}[\dXx])(?![0-9A-Za-z])/g;
/** `@jane_doe` not preceded by anything that would make it an email's domain. */
const HANDLE = /(?<![\p{L}\p{N}._%+'\-@])@[A-Za-z0-9_](?:[A-Za-z0-9_.]{0,38}[A-Za-z0-9_])?(?![\p{L}\p{N}@])/gu;
/** URL paths that lead to one person's page: /people/jane-doe, /profile/…, /staff/…, /~jdoe. */
const PERSONAL_PATH = /\/(?:people|person|persons|profiles?|staff|directory|members?|users?|researchers?|academics?|team)\/[^/?#\s]|\/~[^/?#\s]/i;
const IPV4 = /(?<![\d.])(?:25[0-5]|2[0-4]\d|1?\d?\d)(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}(?![\d.])/g;
const PROFILE_URL = /(?<![A-Za-z0-9.-])(?:(?:www\.)?linkedin\.com\/in|(?:www\.)?researchgate\.net\/profile|(?:www\.)?facebook\.com|(?:www\.)?twitter\.com|x\.com|github\.com|scholar\.google\.[a-z.]{2,10}\/citations)\/[^\s"'<>)]+/gi;
/** A top-level domain: letters of any script, or punycode (`xn--p1ai`). */
const TLD = /^(?:[\p{L}\p{M}]{2,63}|xn--[a-z0-9-]{2,59})$/iu;
const ISO_DATE_AT_START = /^\d{4}-\d{2}-\d{2}/;
const PERSON_LIKE_KEY = /^[\p{L}'’.-]+(?:\s+[\p{L}'’.-]+){1,3}$/u;

const NAME_FIELD = /names?$/i;
const NOT_A_PERSON_NAME =
  /(?:file|project|study|stud(?:y|ies)|collection|database|db|table|index|host|server|domain|type|class|app|application|stage|step|category|tag|field|column|attribute|property|key|method|action|event|state|status|country|city|institution|organi[sz]ation|company|journal|species|strain|drug|intervention|outcome|model|disease|procedure|unit|label|template|form|question|option|variable|schema|bucket|queue|job|task|role|permission|feature|package|module|product|brand|trial|phase|arm|cohort|experiment|protocol|reference|source|target|system|service|resource|file_?path|path|display_?type|sheet|section|stage|group|team)_?names?$/i;
const ACTOR_FIELD = /(?:ed|er)_?by$/i;
const ROLE_FIELD =
  /(?:reviewer|annotator|author|owner|creator|editor|assignee|submitter|investigator|member|contact|person|user|screener|moderator|requester|recipient|sender|participant|collaborator|supervisor|curator|uploader|signatory|inviter|invitee|surname|forename)s?(?:_?(?:full_?)?names?)?$/i;
const EMAIL_FIELD = /e-?mails?(?:_?address(?:es)?)?$/i;
const PHONE_FIELD = /(?:phone|mobile|^tel|telephone|^fax|phone_?number)s?$/i;
const AUTH_FIELD = /(?:auth0.*|oauth_?id|openid|identity_?provider_?id|external_?user_?id|subject_?id)$/i;
const IP_FIELD = /(?:^ip|ip_?address|_ip|remote_?addr(?:ess)?|client_?ip|last_?login_?ip)$/i;
const ORCID_FIELD = /orcid/i;
const BIRTH_FIELD = /(?:birth_?(?:date|day)|date_?of_?birth|^dob)$/i;
const ADDRESS_FIELD = /(?:(?:home|postal|street|mailing|work|residential)_?address(?:es)?|street|postcode|post_?code|zip_?code|^zip)$/i;

/**
 * Non-overlapping spans of personal data inside `text`, in order. Linear in
 * `text.length`. Detection runs on a normalized view (pii-normalize.ts), and
 * each finding covers the whole original span it came from.
 */
export function findPiiSpans(text: string): PiiSpan[] {
  if (!mayHoldFinding(text)) return [];
  return findPiiSpansExhaustive(text, false);
}

/**
 * findPiiSpans without its shortcuts (the `mayHoldFinding` skip; with
 * `exhaustive`, also base64 decodings that cannot hold an `@`): the slow
 * reference the fast paths are tested against.
 */
export function findPiiSpansExhaustive(text: string, exhaustive = true): PiiSpan[] {
  const view = normalizeForDetection(text);
  const found = findNormalizedSpans(view.text, exhaustive);
  if (view.identity) return found;
  return withoutOverlaps(found.map((s) => ({ ...originalSpan(view, s.start, s.end), kind: s.kind })));
}

/** The shortest text any detector finds: a handle (`@a`) or an IPv6 address (`::`). */
const MIN_FINDING = 2;

/**
 * Text the normalizer leaves as it is (pii-normalize.ts NEEDS_WORK: no
 * disguise, no non-ASCII character) and without any of these characters
 * cannot hold a finding, so the detectors are not run on it (most prose of
 * abstracts and notes):
 *  - emails and handles need `@` (or `%40`: `%`); auth ids `|`; profile
 *    URLs `/`; phones, ORCID iDs, IPv4 addresses and hex-encoded emails
 *    (`40`) digits; IPv6 addresses `:`;
 *  - a base64 run decodes to an `@` only if it holds `Q` (the `@` as a
 *    quad's first byte), one of `A`–`D` (second byte) or `A` (third byte).
 * A detector added to findNormalizedSpans must add its necessary characters
 * here; test/unit/anonymize/pii-fast-paths.test.ts checks the shortcut against
 * findPiiSpansExhaustive.
 */
const DETECTOR_CHARACTERS = /[@%|/0-9A-DQ:]/;

/** False when `text` cannot hold anything the detectors find. */
export function mayHoldFinding(text: string): boolean {
  return text.length >= MIN_FINDING && (DETECTOR_CHARACTERS.test(text) || NEEDS_WORK.test(text));
}

function findNormalizedSpans(text: string, exhaustive: boolean): PiiSpan[] {
  const spans: PiiSpan[] = [];
  scanEmails(text, spans);
  if (text.includes('%')) scanPercentEncodedEmails(text, spans);
  // Cheap necessary-character tests skip whole patterns on most text.
  if (text.includes('|')) collect(text, AUTH_ID_ANYWHERE, 'auth-id', spans);
  collect(text, ORCID, 'orcid', spans);
  if (text.includes('/')) collect(text, PROFILE_URL, 'profile-url', spans);
  if (text.includes('/')) scanPersonalUrls(text, spans);
  if (text.includes(':')) scanIpv6(text, spans);
  if (text.includes('@')) collect(text, HANDLE, 'handle', spans);
  if (text.includes('.')) collect(text, IPV4, 'ip-address', spans);
  scanPhones(text, spans);
  scanBase64Emails(text, spans, exhaustive);
  return withoutOverlaps(spans);
}

/** Kinds of personal data `text` looks like, as a whole or anywhere inside it. */
export function detectValue(text: string): PiiKind[] {
  const trimmed = text.trim();
  // Every check below needs a character mayHoldFinding looks for (`|` for auth ids, a digit or `:` for IP addresses).
  if (!mayHoldFinding(trimmed)) return [];
  const kinds = new Set<PiiKind>(findPiiSpansExhaustive(trimmed, false).map((s) => s.kind));
  if (AUTH_ID_WHOLE.test(trimmed)) kinds.add('auth-id');
  if (trimmed.length <= 64 && isIP(trimmed) !== 0) kinds.add('ip-address');
  return ORDER.filter((k) => kinds.has(k));
}

const ORDER: PiiKind[] = ['email', 'encoded-email', 'phone', 'person-name', 'auth-id', 'ip-address', 'orcid', 'handle', 'profile-url', 'birth-date', 'postal-address'];

/** Kinds of personal data a field with this name (the last path part) is likely to hold. */
export function detectFieldName(name: string): PiiKind[] {
  const tail = name.slice(-NAME_TAIL);
  const kinds: PiiKind[] = [];
  if ((NAME_FIELD.test(tail) && !NOT_A_PERSON_NAME.test(tail)) || ACTOR_FIELD.test(tail) || ROLE_FIELD.test(tail)) kinds.push('person-name');
  if (EMAIL_FIELD.test(tail)) kinds.push('email');
  if (PHONE_FIELD.test(tail)) kinds.push('phone');
  if (AUTH_FIELD.test(tail)) kinds.push('auth-id');
  if (IP_FIELD.test(tail)) kinds.push('ip-address');
  if (ORCID_FIELD.test(tail)) kinds.push('orcid');
  if (BIRTH_FIELD.test(tail)) kinds.push('birth-date');
  if (ADDRESS_FIELD.test(tail)) kinds.push('postal-address');
  return kinds;
}

/**
 * A document key that is itself personal data: an email (plain, URL- or
 * base64-encoded), phone, auth id, ORCID, or a person-name-like phrase of
 * 2-4 words. Maps keyed by such values must not keep their keys.
 */
export function looksLikePiiKey(key: string): boolean {
  if (key.length > MAX_PLAIN_KEY) return true;
  if (detectValue(key).length > 0) return true;
  return PERSON_LIKE_KEY.test(key.trim());
}

function collect(text: string, pattern: RegExp, kind: PiiKind, spans: PiiSpan[]): void {
  pattern.lastIndex = 0;
  for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
    spans.push({ start: match.index, end: match.index + match[0].length, kind });
    if (match[0].length === 0) pattern.lastIndex++;
  }
}

const LOCAL_SPECIALS = new Set([...".\_%+'-/!#$&*=?^`{}~"].map((c) => c.charCodeAt(0)));
const WORD_CHAR = /[\p{L}\p{N}\p{M}]/u;

/** Internationalised addresses: letters of any script count, in local parts and domains alike. */
function isWordUnit(code: number): boolean {
  if (code < 128) return (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122);
  if (code >= 0xd800 && code <= 0xdfff) return true; // half of an astral letter: err towards the address
  return WORD_CHAR.test(String.fromCharCode(code));
}

function isLocalChar(code: number): boolean {
  return isWordUnit(code) || LOCAL_SPECIALS.has(code);
}

function isDomainChar(code: number): boolean {
  return isWordUnit(code) || code === 46 || code === 45;
}

function isLetter(code: number): boolean {
  return (code >= 65 && code <= 90) || (code >= 97 && code <= 122);
}

/** Length of the at-sign token at `i`: `@`, or `%40` (URL-encoded); 0 when there is none. */
function atSignAt(text: string, i: number): number {
  const code = text.charCodeAt(i);
  if (code === 64) return 1;
  if (code === 37 && text.charCodeAt(i + 1) === 52 && text.charCodeAt(i + 2) === 48) return 3;
  return 0;
}

/**
 * Emails, found by growing outwards from each at-sign. A left scan never
 * passes the previous at-sign and a right scan stops at the next one, so each
 * character is read at most twice whatever the input.
 */
function scanEmails(text: string, spans: PiiSpan[]): void {
  let boundary = 0;
  for (let i = 0; i < text.length; i++) {
    const at = atSignAt(text, i);
    if (at === 0) continue;
    let start = i;
    if (text.charCodeAt(i - 1) === 34) {
      // "jane doe"@uni.ac.uk: the quoted local part, back to its opening quote (never past the previous @).
      let q = i - 2;
      while (q >= boundary && text.charCodeAt(q) !== 34 && i - q < 130) q--;
      if (q >= boundary && text.charCodeAt(q) === 34) start = q;
    }
    while (start > boundary && isLocalChar(text.charCodeAt(start - 1))) start--;
    while (start < i && text.charCodeAt(start) === 46) start++;
    let end = i + at;
    while (end < text.length && isDomainChar(text.charCodeAt(end))) end++;
    boundary = i + at;
    // Trim trailing dots/hyphens ("mail me at a@b.org.").
    while (end > i + at && (text.charCodeAt(end - 1) === 46 || text.charCodeAt(end - 1) === 45)) end--;
    if (start < i && validDomain(text, i + at, end)) {
      spans.push({ start, end, kind: at === 1 ? 'email' : 'encoded-email' });
    }
    i = boundary - 1;
  }
}

/** Emails written entirely in %XX escapes (`jane%2Edoe%40uni%2Eorg`), mapped back to offsets in `text`. */
function scanPercentEncodedEmails(text: string, spans: PiiSpan[]): void {
  const decoded: string[] = [];
  const origin: number[] = [];
  for (let i = 0; i < text.length; i++) {
    origin.push(i);
    if (text.charCodeAt(i) === 37 && isHex(text.charCodeAt(i + 1)) && isHex(text.charCodeAt(i + 2))) {
      decoded.push(String.fromCharCode(parseInt(text.slice(i + 1, i + 3), 16)));
      i += 2;
    } else decoded.push(text[i]!);
  }
  origin.push(text.length);
  const found: PiiSpan[] = [];
  scanEmails(decoded.join(''), found);
  for (const span of found) spans.push({ start: origin[span.start]!, end: origin[span.end]!, kind: 'encoded-email' });
}

function isHex(code: number): boolean {
  return (code >= 48 && code <= 57) || (code >= 65 && code <= 70) || (code >= 97 && code <= 102);
}

function validDomain(text: string, from: number, to: number): boolean {
  let lastDot = to - 1;
  while (lastDot > from && text.charCodeAt(lastDot) !== 46) lastDot--;
  if (lastDot <= from || lastDot >= to - 2) return false;
  return TLD.test(text.slice(lastDot + 1, to));
}

/**
 * Phone numbers inside text: a maximal run of digits and separators with
 * 7-15 digits that starts with `+`, has an area code in brackets, has at
 * least three digit groups, or is a 10-11 digit number starting with 0.
 * Runs glued to letters or to `/` and `.` (DOIs, versions, ids) are not phones.
 */
function scanPhones(text: string, spans: PiiSpan[]): void {
  const n = text.length;
  let i = 0;
  while (i < n) {
    const code = text.charCodeAt(i);
    const startsRun = isDigit(code) || ((code === 43 || code === 40) && isDigit(text.charCodeAt(i + 1)));
    if (!startsRun) {
      i++;
      continue;
    }
    const start = i;
    let end = i;
    while (end < n && isPhoneChar(text.charCodeAt(end)) && !(text.charCodeAt(end) === 32 && text.charCodeAt(end + 1) === 32)) end++;
    while (end > start && !isDigit(text.charCodeAt(end - 1))) end--;
    i = Math.max(end, start + 1);
    if (isGlued(text.charCodeAt(start - 1)) || isGluedAfter(text.charCodeAt(end))) continue;
    if (looksLikePhone(text.slice(start, end))) spans.push({ start, end, kind: 'phone' });
  }
}

function looksLikePhone(run: string): boolean {
  let digits = 0;
  let groups = 0;
  let inGroup = false;
  for (let j = 0; j < run.length; j++) {
    if (isDigit(run.charCodeAt(j))) {
      digits++;
      if (!inGroup) groups++;
      inGroup = true;
    } else inGroup = false;
  }
  if (digits < 7 || digits > 15) return false;
  if (ISO_DATE_AT_START.test(run)) return false;
  if (run.startsWith('+')) return true;
  if (run.startsWith('(') && groups >= 2) return true;
  if (groups >= 3) return !isDottedQuad(run);
  // 07700900123, 030 12345678, 06-12345678: national numbers with a trunk 0.
  return groups <= 2 && run.startsWith('0') && !run.startsWith('00') && (digits === 10 || digits === 11);
}

function isDottedQuad(run: string): boolean {
  IPV4.lastIndex = 0;
  const match = IPV4.exec(run);
  return match !== null && match[0].length === run.length;
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

function isPhoneChar(code: number): boolean {
  return isDigit(code) || code === 32 || code === 46 || code === 45 || code === 40 || code === 41 || code === 43;
}

function isGlued(code: number): boolean {
  return isLetter(code) || code === 47 || code === 46 || code === 95 || code === 45 || isDigit(code);
}

function isGluedAfter(code: number): boolean {
  return isLetter(code) || code === 47 || code === 95 || isDigit(code);
}

function isBase64Char(code: number): boolean {
  return (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code === 43 || code === 47 || code === 45 || code === 95;
}

/** 6-bit values of the base64 alphabets (standard and URL-safe, as Node decodes both); -1 elsewhere. */
const BASE64_VALUE = new Int8Array(128).fill(-1);
for (let v = 0; v < 64; v++) BASE64_VALUE['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.charCodeAt(v)] = v;
BASE64_VALUE[45] = 62; // '-'
BASE64_VALUE[95] = 63; // '_'
const ALL_ALIGNMENTS = 0b1111;
const HEX_AT = 0b10000;

/**
 * Which decodings of the base64 run text[start, end) (line breaks skipped)
 * can hold an `@`: bit k for the decoding from character k (k = 0..3), bit 4
 * for the hex reading. Computed from pairs of neighbouring characters without
 * decoding: byte j of a quad is built from characters j and j + 1 of it, so
 * an `@` (0x40) needs 'Q' then a value < 16 (byte 0), a value ≡ 4 (mod 16)
 * then a value < 4 (byte 1), or a value ≡ 1 (mod 4) then 'A' (byte 2). Every
 * adjacent pair of a decoding yields a byte, trailing partial quads included,
 * so this is exact: a decoding with no bit set holds no `@`
 * (test/unit/anonymize/pii-fast-paths.test.ts compares it with decoding).
 */
export function atSignAlignments(text: string, start: number, end: number): number {
  let mask = 0;
  let p = -1;
  let previous = -1;
  let previousCode = 0;
  for (let k = start; k < end; k++) {
    const code = text.charCodeAt(k);
    if (code === 10 || code === 13) continue;
    const value = BASE64_VALUE[code]!;
    if (p >= 0) {
      if (previous === 16 && value < 16) mask |= 1 << (p & 3);
      if ((previous & 15) === 4 && value < 4 && p >= 1) mask |= 1 << ((p - 1) & 3);
      if ((previous & 3) === 1 && value === 0 && p >= 2) mask |= 1 << ((p - 2) & 3);
      if (previousCode === 52 && code === 48 && (p & 1) === 0) mask |= HEX_AT;
      if ((mask & ALL_ALIGNMENTS) === ALL_ALIGNMENTS && mask & HEX_AT) return mask;
    }
    p++;
    previous = value;
    previousCode = code;
  }
  return mask;
}

/**
 * Base64 (standard or URL-safe) runs that decode to text containing an
 * email. Each run is decoded at the four possible alignments, so an encoded
 * email inside a longer token is found too; work stays linear. Only the
 * decodings that can hold an `@` are decoded (`atSignAlignments`); with
 * `exhaustive` every one is, which tests compare against.
 */
function scanBase64Emails(text: string, spans: PiiSpan[], exhaustive = false): void {
  const n = text.length;
  let i = 0;
  while (i < n) {
    if (!isBase64Char(text.charCodeAt(i))) {
      i++;
      continue;
    }
    const start = i;
    // MIME wraps base64 at 76 columns: a line break followed by more base64 continues the run.
    while (i < n && (isBase64Char(text.charCodeAt(i)) || (isLineBreak(text.charCodeAt(i)) && i + 1 < n && (isBase64Char(text.charCodeAt(i + 1)) || isLineBreak(text.charCodeAt(i + 1)))))) i++;
    while (i > start && isLineBreak(text.charCodeAt(i - 1))) i--;
    let end = i;
    while (end < n && text.charCodeAt(end) === 61 && end - i < 2) end++;
    if (i - start < MIN_BASE64_RUN) continue;
    const candidates = exhaustive ? ALL_ALIGNMENTS | HEX_AT : atSignAlignments(text, start, i);
    if (candidates === 0) {
      i = end;
      continue;
    }
    const run = text.slice(start, i).replace(/[\r\n]/g, '');
    if (candidates & HEX_AT && run.length % 2 === 0 && /^[0-9a-fA-F]+$/.test(run) && Buffer.from(run, 'hex').toString('latin1').includes('@')) {
      const found: PiiSpan[] = [];
      scanEmails(Buffer.from(run, 'hex').toString('latin1').replace(/\0/g, ''), found);
      if (found.length > 0) {
        spans.push({ start, end, kind: 'encoded-email' });
        i = end;
        continue;
      }
    }
    for (let offset = 0; offset < 4; offset++) {
      if (!(candidates & (1 << offset))) continue;
      // UTF-16 text encodes as base64 with a zero byte beside every ASCII letter.
      const decoded = Buffer.from(run.slice(offset), 'base64').toString('latin1').replace(/\0/g, '');
      if (!decoded.includes('@')) continue;
      const found: PiiSpan[] = [];
      scanEmails(decoded, found);
      if (found.length > 0) {
        spans.push({ start, end, kind: 'encoded-email' });
        break;
      }
    }
    i = end;
  }
}

/** The base64/hex findings of `text`, with or without skipping decodings that hold no `@` (for tests). */
export function base64EmailSpans(text: string, exhaustive: boolean): PiiSpan[] {
  const spans: PiiSpan[] = [];
  scanBase64Emails(text, spans, exhaustive);
  return spans;
}

function isLineBreak(code: number): boolean {
  return code === 10 || code === 13;
}

/** IPv6 addresses: maximal runs of hex digits, colons and dots holding two colons, confirmed by the parser. */
function scanIpv6(text: string, spans: PiiSpan[]): void {
  const n = text.length;
  let i = 0;
  while (i < n) {
    if (!isIpv6Char(text.charCodeAt(i))) {
      i++;
      continue;
    }
    const start = i;
    let colons = 0;
    while (i < n && isIpv6Char(text.charCodeAt(i))) if (text.charCodeAt(i++) === 58) colons++;
    let end = i;
    while (end > start && (text.charCodeAt(end - 1) === 46 || text.charCodeAt(end - 1) === 58) && !(text.charCodeAt(end - 2) === 58)) end--;
    if (colons >= 2 && end - start <= 45 && isIP(text.slice(start, end)) === 6) spans.push({ start, end, kind: 'ip-address' });
  }
}

function isIpv6Char(code: number): boolean {
  return isHex(code) || code === 58 || code === 46;
}

/** URLs (http(s)://, www.) whose path leads to one person's page; the whole URL is replaced. */
function scanPersonalUrls(text: string, spans: PiiSpan[]): void {
  const lower = text.toLowerCase();
  let i = 0;
  while (i < text.length) {
    const http = lower.indexOf('http', i);
    const www = lower.indexOf('www.', i);
    const start = http < 0 ? www : www < 0 ? http : Math.min(http, www);
    if (start < 0) return;
    let end = start;
    while (end < text.length && !isUrlStop(text.charCodeAt(end))) end++;
    while (end > start && /[.,;:!?)\]]/.test(text[end - 1]!)) end--;
    const url = text.slice(start, end);
    if ((url.startsWith('www.') || /^https?:\/\//i.test(url)) && PERSONAL_PATH.test(url)) spans.push({ start, end, kind: 'profile-url' });
    i = Math.max(end, start + 4);
  }
}

function isUrlStop(code: number): boolean {
  return code <= 32 || code === 34 || code === 39 || code === 60 || code === 62 || code === 96;
}

/** Sorted by start; a span inside (or overlapping) an earlier, longer-reaching one is dropped. */
function withoutOverlaps(spans: PiiSpan[]): PiiSpan[] {
  spans.sort((a, b) => a.start - b.start || b.end - a.end);
  const out: PiiSpan[] = [];
  for (const span of spans) {
    const last = out[out.length - 1];
    if (last && span.start < last.end) {
      last.end = Math.max(last.end, span.end);
      continue;
    }
    out.push({ ...span });
  }
  return out;
}

const TITLE_WORD = /^(?:Dr|Prof|Mr|Mrs|Ms|Mx|Sir|Dame)\.?$/;
const CAPITALISED_WORD = /^\p{Lu}[\p{Ll}'’-]{1,24}$/u;
/** Lower-case letters then digits, the shape of generated logins (`jshipdoe42`). */
const LOGIN = /^[a-z]{3,}[a-z._-]{0,30}[0-9]{1,6}$/;
/** Field names whose short capitalised values are research vocabulary, not people. */
const RESEARCH_FIELD =
  /(?:title|keyword|tag|label|category|type|kind|species|strain|drug|treatment|intervention|model|outcome|journal|disease|condition|method|status|state|unit|country|city|institution|organi[sz]ation|group|project|study|section|heading|stage|phase|language|sex|gender|route|anaesthetic|anesthetic|measure|assay)s?$/i;

/**
 * A whole value shaped like a person's name (two or three capitalised words,
 * optionally after a title: "Jane Shipwho Doe", "Dr Jane Doe") or like a login
 * handle ("jshipdoe42"). Used for fields kept wholesale by keep_subtree or a
 * keeping default, where nobody reviewed the field. Research vocabulary fields
 * (titles, keywords, species...) are left out: their values are capitalised phrases.
 */
export function looksLikePersonOrHandle(value: string, fieldName = ''): PiiKind | null {
  const text = value.trim();
  if (text.length < 4 || text.length > 64 || RESEARCH_FIELD.test(fieldName.slice(-NAME_TAIL))) return null;
  if (LOGIN.test(text)) return 'handle';
  const words = text.split(/\s+/);
  const named = TITLE_WORD.test(words[0] ?? '') ? words.slice(1) : words;
  if (named.length >= 2 && named.length <= 3 && named.every((w) => CAPITALISED_WORD.test(w))) return 'person-name';
  return null;
}
