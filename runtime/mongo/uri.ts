/**
 * Checks a MongoDB connection string before the driver sees it, so every
 * mistake is one clear sentence (the driver answers some with a stack, hangs
 * on others, and echoes the password in a few). Messages never contain the
 * password: they describe the problem and show the URI redacted.
 */
import { ExitCode, UserError } from '../errors.js';
import { redactSecrets, registerUriSecrets } from '../ops/redact.js';

export interface MongoUriParts {
  scheme: 'mongodb' | 'mongodb+srv';
  /** host[:port] entries, without credentials. */
  hosts: string[];
  hasCredentials: boolean;
}

const URI_HINT =
  'use mongodb://USER:PASSWORD@HOST:PORT/ or mongodb+srv://USER:PASSWORD@HOST/, with characters such as @ / : ? # [ ] in the user name or password percent-encoded (@ is %40, / is %2F); in jobs the URI comes from a Secret, never the command line';

export function parseMongoUri(uri: string): MongoUriParts {
  registerUriSecrets(uri);
  const bad = (problem: string) =>
    new UserError(`the MongoDB URI ${redactSecrets(uri.trim())} is not valid: ${problem}`, { hint: URI_HINT, exitCode: ExitCode.usage });
  if (uri.trim() === '') throw bad('it is empty');
  if (uri !== uri.trim()) throw bad('it starts or ends with whitespace (check how the Secret or variable was written)');
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(uri);
  if (!scheme) throw bad('it does not start with mongodb:// or mongodb+srv://');
  const name = scheme[1]!;
  if (name !== 'mongodb' && name !== 'mongodb+srv') {
    if (name.toLowerCase() === 'mongodb' || name.toLowerCase() === 'mongodb+srv') throw bad(`the scheme must be lowercase "${name.toLowerCase()}://", not "${name}://"`);
    throw bad(`"${name}://" is not a MongoDB scheme (expected mongodb:// or mongodb+srv://)`);
  }
  const rest = uri.slice(scheme[0].length);
  const queryAt = rest.indexOf('?');
  const beforeQuery = queryAt >= 0 ? rest.slice(0, queryAt) : rest;
  const at = beforeQuery.lastIndexOf('@');
  const userInfo = at >= 0 ? beforeQuery.slice(0, at) : null;
  if (userInfo !== null) {
    const colon = userInfo.indexOf(':');
    const user = colon >= 0 ? userInfo.slice(0, colon) : userInfo;
    const password = colon >= 0 ? userInfo.slice(colon + 1) : '';
    for (const [what, value] of [
      ['user name', user],
      ['password', password],
    ] as const) {
      const unescaped = /[@/:?#[\]]/.exec(value);
      if (unescaped) throw bad(`the ${what} contains an unescaped "${unescaped[0]}" (percent-encode it as %${unescaped[0].charCodeAt(0).toString(16).toUpperCase()})`);
      if (/%(?![0-9a-fA-F]{2})/.test(value)) throw bad(`the ${what} contains a "%" that is not a percent-escape (write it as %25)`);
    }
  }
  const afterCredentials = beforeQuery.slice(at + 1);
  const slash = afterCredentials.indexOf('/');
  const hostList = slash >= 0 ? afterCredentials.slice(0, slash) : afterCredentials;
  if (hostList === '') throw bad('it names no host');
  const hosts = hostList.split(',');
  for (const host of hosts) checkHost(host, bad);
  if (name === 'mongodb+srv') {
    if (hosts.length !== 1) throw bad('mongodb+srv:// takes exactly one host name');
    if (/:\d*$/.test(hosts[0]!) && !hosts[0]!.endsWith(']')) throw bad('mongodb+srv:// takes no port');
  }
  return { scheme: name, hosts, hasCredentials: userInfo !== null };
}

function checkHost(host: string, bad: (problem: string) => UserError): void {
  if (host === '') throw bad('it has an empty host name (two commas, or a trailing comma)');
  let port: string | undefined;
  if (host.startsWith('[')) {
    const close = host.indexOf(']');
    if (close < 0) throw bad(`the IPv6 address "${host}" has no closing "]"`);
    const after = host.slice(close + 1);
    if (after !== '' && !after.startsWith(':')) throw bad(`unexpected text after the IPv6 address "${host.slice(0, close + 1)}"`);
    port = after === '' ? undefined : after.slice(1);
  } else {
    const parts = host.split(':');
    if (parts.length > 2) throw bad(`the host "${host}" has more than one ":" (write an IPv6 address in brackets, e.g. [::1]:27017)`);
    if (!/^[A-Za-z0-9._%-]+$/.test(parts[0]!)) throw bad(`"${parts[0]}" is not a host name`);
    port = parts[1];
  }
  if (port !== undefined) {
    const number = /^\d{1,5}$/.test(port) ? Number(port) : NaN;
    if (!(number >= 1 && number <= 65535)) throw bad(`the port "${port}" of host "${host}" is not a number from 1 to 65535`);
  }
}

/** Host names of a URI, for the manifest (no credentials, no options); [] when it cannot be read. */
export function hostsOf(uri: string): string[] {
  try {
    return parseMongoUri(uri).hosts;
  } catch {
    return [];
  }
}
