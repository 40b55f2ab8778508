/**
 * The one place secrets are taken out of text before it is printed, logged
 * or audited. Two layers, so a secret leaks only if both miss it:
 *
 * 1. Known secrets: values this process was given (the password and secret
 *    options of the MongoDB URI, a Pushgateway URL's credentials, keys) are
 *    registered once and replaced wherever they appear, in any encoding the
 *    driver might echo (raw or percent-decoded/encoded).
 * 2. Shapes: anything after `scheme://` up to the last `@` of the same
 *    token (a password may itself hold `@`, `/` or `:`), and the value of any
 *    URI option or `key=value` whose name says it is secret.
 */

const REDACTED = '***';

/** Option names whose values are secrets (case-insensitive substrings). */
const SECRET_OPTION = /(password|passwd|pwd|secret|token|credential|authMechanismProperties|signature|apikey|api_key|private_?key)/i;

/** Shorter values would replace innocent text everywhere (a password "a" cannot be found reliably anyway). */
const MIN_SECRET_LENGTH = 3;

const known = new Set<string>();

/** Remembers `value` as secret for this process: it never appears in redacted text afterwards. */
export function registerSecret(value: string | undefined | null): void {
  if (!value || value.length < MIN_SECRET_LENGTH) return;
  for (const variant of variantsOf(value)) if (variant.length >= MIN_SECRET_LENGTH) known.add(variant);
}

/** Registers the secret parts of a connection string or URL: the password (or whole user info) and secret options. */
export function registerUriSecrets(uri: string | undefined | null): void {
  if (!uri) return;
  const trimmed = uri.trim();
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(trimmed);
  if (!scheme) return;
  const rest = trimmed.slice(scheme[0].length);
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    const userInfo = rest.slice(0, at);
    registerSecret(userInfo);
    const colon = userInfo.indexOf(':');
    if (colon >= 0) registerSecret(userInfo.slice(colon + 1));
  }
  const query = rest.indexOf('?', at + 1);
  if (query >= 0) {
    for (const pair of rest.slice(query + 1).split(/[&;]/)) {
      const eq = pair.indexOf('=');
      if (eq > 0 && SECRET_OPTION.test(pair.slice(0, eq))) {
        const value = pair.slice(eq + 1);
        registerSecret(value);
        // authMechanismProperties=AWS_SESSION_TOKEN:abc,SERVICE_NAME:x — each property value too.
        for (const part of safeDecode(value).split(',')) registerSecret(part.slice(part.indexOf(':') + 1));
      }
    }
  }
}

/** `text` with every known secret and every secret-shaped part replaced by `***`. */
export function redactSecrets(text: string): string {
  let out = text;
  // Longest first, so a secret containing another is replaced whole.
  for (const secret of [...known].sort((a, b) => b.length - a.length)) {
    if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  }
  return out.replace(/[a-z][a-z0-9+.-]*:\/\/[^\s"'<>`]+/gi, redactUriToken).replace(/\b([A-Za-z_][\w.-]*)=([^\s&;,"'<>`]+)/g, (whole, name: string, value: string) =>
    SECRET_OPTION.test(name) && value !== REDACTED ? `${name}=${REDACTED}` : whole,
  );
}

/** Redacts the user info (up to the last `@`) and secret options of one URI-looking token. */
function redactUriToken(token: string): string {
  const schemeEnd = token.indexOf('://') + 3;
  let rest = token.slice(schemeEnd);
  const at = rest.lastIndexOf('@');
  if (at >= 0) rest = `${REDACTED}@${rest.slice(at + 1)}`;
  return token.slice(0, schemeEnd) + rest;
}

/** Redacts secrets inside any JSON-like value (log fields, audit records). */
export function redactValue<T>(value: T): T {
  if (typeof value === 'string') return redactSecrets(value) as T;
  if (Array.isArray(value)) return value.map(redactValue) as T;
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactValue(v)])) as T;
  }
  return value;
}

/** For tests: forget every registered secret. */
export function clearRegisteredSecrets(): void {
  known.clear();
}

function variantsOf(value: string): string[] {
  const variants = new Set([value, safeDecode(value)]);
  try {
    variants.add(encodeURIComponent(value));
    variants.add(encodeURIComponent(safeDecode(value)));
  } catch {
    // lone surrogates cannot be encoded; the raw value is still registered
  }
  return [...variants];
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
