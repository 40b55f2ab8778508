/**
 * Heuristics for values and field names that look like personal data. They
 * err towards reporting: a false alarm costs a `keep` with a reason, a miss
 * costs a leak.
 */
import { isIP } from 'node:net';

export type PiiKind = 'email' | 'phone' | 'person-name' | 'auth-id' | 'ip-address';

const EMAIL_ANYWHERE = /[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/;
const AUTH_ID = /^(?:auth0|google-oauth2|github|windowslive|facebook|twitter|linkedin|apple|samlp|waad|adfs|oidc|email|sms|orcid)\|[^\s|]{4,}$/i;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}/;
// International (+44 131 ...), or grouped national numbers (0131 650 1000, (555) 123-4567).
const PHONE_INTERNATIONAL = /^\+\d[\d\s().-]{6,20}\d$/;
const PHONE_GROUPED = /^\(?\d{2,5}\)?[\s.-]\d{2,5}(?:[\s.-]\d{2,5}){0,3}$/;

const NAME_FIELD = /^(?:first|last|given|family|middle|maiden|sur|full|display|user|nick|contact|author|owner|person|real)_?name$|^surname$|^forename$|^(?:given|family)_?names?$/i;
const EMAIL_FIELD = /e-?mail/i;
const PHONE_FIELD = /^(?:.*phone.*|mobile|tel|telephone|fax|.*phone_?number)$/i;
const AUTH_FIELD = /^(?:auth0_?id|.*auth0.*|oauth_?id|openid|identity_?provider_?id)$/i;
const IP_FIELD = /^(?:ip|ip_?address|.*_ip|remote_?addr(?:ess)?|client_?ip|last_?login_?ip)$/i;

/** Kinds of personal data `text` looks like. */
export function detectValue(text: string): PiiKind[] {
  const kinds: PiiKind[] = [];
  const trimmed = text.trim();
  if (trimmed === '') return kinds;
  if (EMAIL_ANYWHERE.test(trimmed)) kinds.push('email');
  if (AUTH_ID.test(trimmed)) kinds.push('auth-id');
  if (isIP(trimmed) !== 0) kinds.push('ip-address');
  if (!ISO_DATE.test(trimmed) && looksLikePhone(trimmed)) kinds.push('phone');
  return kinds;
}

function looksLikePhone(text: string): boolean {
  const digits = text.replace(/\D/g, '').length;
  if (digits < 7 || digits > 15) return false;
  return PHONE_INTERNATIONAL.test(text) || PHONE_GROUPED.test(text);
}

/** Kinds of personal data a field with this name (the last path part) is likely to hold. */
export function detectFieldName(name: string): PiiKind[] {
  const kinds: PiiKind[] = [];
  if (NAME_FIELD.test(name)) kinds.push('person-name');
  if (EMAIL_FIELD.test(name)) kinds.push('email');
  if (PHONE_FIELD.test(name)) kinds.push('phone');
  if (AUTH_FIELD.test(name)) kinds.push('auth-id');
  if (IP_FIELD.test(name)) kinds.push('ip-address');
  return kinds;
}
