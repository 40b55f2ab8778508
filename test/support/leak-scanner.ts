/**
 * Searches output bytes for planted personal values, the way an attacker
 * with the output would: case-insensitively, inside larger strings, after
 * gunzip, after URL-decoding, after base64-decoding any run of base64
 * characters (at every alignment), in keys, metadata and the manifest alike,
 * since all of them are just bytes here.
 */
import { gunzipSync } from 'node:zlib';

export interface LeakHit {
  output: string;
  value: string;
  /** Which view of the output held it. */
  view: 'raw' | 'url-decoded' | 'base64-decoded';
}

/** Readable views of `bytes`: the bytes (gunzipped when gzip) as text, URL-decoded, and every base64 run decoded. */
export function viewsOf(bytes: Buffer): { view: LeakHit['view']; text: string }[] {
  let plain = bytes;
  if (bytes.length > 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) plain = gunzipSync(bytes);
  const raw = plain.toString('latin1') + '\n' + plain.toString('utf8');
  const urlDecoded = raw.replace(/%([0-9a-f]{2})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  const decodedRuns: string[] = [];
  for (const match of raw.matchAll(/[A-Za-z0-9+/_-]{8,}={0,2}/g)) {
    for (let offset = 0; offset < 4; offset++) decodedRuns.push(Buffer.from(match[0].slice(offset), 'base64').toString('latin1'));
  }
  return [
    { view: 'raw', text: raw.toLowerCase() },
    { view: 'url-decoded', text: urlDecoded.toLowerCase() },
    { view: 'base64-decoded', text: decodedRuns.join('\n').toLowerCase() },
  ];
}

/** Every planted value found in any output. `outputs` maps a name (file, stream) to its bytes. */
export function scanForLeaks(outputs: Record<string, Buffer | string>, planted: readonly string[]): LeakHit[] {
  const needles = [...new Set(planted.flatMap(variants))];
  const hits: LeakHit[] = [];
  for (const [output, content] of Object.entries(outputs)) {
    const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
    for (const { view, text } of viewsOf(bytes)) {
      for (const value of needles) if (text.includes(value)) hits.push({ output, value, view });
    }
  }
  return hits;
}

/** The value, lower-cased, and for phone-like values the bare digits too. */
function variants(value: string): string[] {
  const out = [value.toLowerCase()];
  const digits = value.replace(/\D/g, '');
  if (/^[+\d\s().-]+$/.test(value) && digits.length >= 7) out.push(digits);
  return out;
}
