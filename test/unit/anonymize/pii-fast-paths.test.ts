/**
 * The detector's shortcuts must never skip what its full scan finds: a
 * shortcut that misses one case is a leak. Each shortcut is compared with
 * the exhaustive scan (`findPiiSpansExhaustive`, every base64 decoding
 * decoded, no character prefilter) on seeded random text and on planted,
 * encoded personal data at every alignment.
 */
import { describe, expect, it } from 'vitest';
import { atSignAlignments, base64EmailSpans, detectValue, findPiiSpans, findPiiSpansExhaustive, mayHoldFinding } from '../../../runtime/anonymize/pii.js';
import { scrubText } from '../../../runtime/anonymize/scrub.js';
import { decodeName } from '../../../runtime/anonymize/bson-raw.js';
import { createTransformContext } from '../../../runtime/anonymize/key.js';
import { seededRandom as prng } from '../../support/random.js';

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_';
/** Characters that make an `@` byte likely (Q, A-D, E U k 0 ...), so random runs often hold one. */
const AT_HEAVY = 'QQQQAAAABCDEUk0ghlp4\r\n';

function randomText(random: () => number, alphabet: string, length: number): string {
  let text = '';
  for (let i = 0; i < length; i++) text += alphabet[Math.floor(random() * alphabet.length)];
  return text;
}

const EMAILS = ['jane@uni.ac.uk', 'Zq.Doe@Example.ORG', 'a@b.cd', 'björn.ó@uni.is', 'x+tag@xn--p1ai.xn--p1ai', 'k@kk.kk'];

/** Every encoding of `email` the detector decodes, at each of the three byte alignments of a base64 quad. */
function encodings(email: string): string[] {
  const out: string[] = [];
  for (const pad of ['', 'x', 'xy', 'xyz']) {
    const bytes = Buffer.from(`${pad}${email}`);
    out.push(bytes.toString('base64'), bytes.toString('base64url'), bytes.toString('base64').replace(/=+$/, ''));
    out.push(Buffer.from(`${pad}${email}`, 'utf16le').toString('base64'));
    // MIME wrapping at every column of the first quad.
    const b64 = bytes.toString('base64');
    for (let cut = 1; cut < Math.min(b64.length, 9); cut++) out.push(`${b64.slice(0, cut)}\r\n${b64.slice(cut)}`);
    out.push(bytes.toString('hex'), bytes.toString('hex').toUpperCase());
  }
  out.push(encodeURIComponent(email), encodeURIComponent(email).replace(/\./g, '%2E'), email.toUpperCase(), email.replace('@', '＠'));
  return out;
}

describe('atSignAlignments', () => {
  it('marks exactly the base64 decodings that hold an @, at every alignment (seeded random runs)', () => {
    const random = prng(101);
    let marked = 0;
    const wrong: string[] = [];
    for (let i = 0; i < 30000; i++) {
      const alphabet = i % 2 === 0 ? AT_HEAVY : BASE64;
      const text = randomText(random, alphabet, 1 + Math.floor(random() * 24));
      const mask = atSignAlignments(text, 0, text.length);
      const run = text.replace(/[\r\n]/g, '');
      for (let offset = 0; offset < 4; offset++) {
        const holdsAt = Buffer.from(run.slice(offset), 'base64').includes(0x40);
        if (Boolean(mask & (1 << offset)) !== holdsAt) wrong.push(`${JSON.stringify(text)} at ${offset}`);
        if (holdsAt) marked++;
      }
      if (run.length % 2 === 0 && /^[0-9a-fA-F]+$/.test(run) && Buffer.from(run, 'hex').includes(0x40) && !(mask & 0b10000)) wrong.push(`${text} as hex`);
    }
    expect(wrong).toEqual([]);
    expect(marked).toBeGreaterThan(5000);
  });

  it('marks the alignment of every planted encoded @', () => {
    for (const email of EMAILS) {
      for (const encoded of encodings(email)) {
        const run = encoded.replace(/[\r\n]/g, '');
        const mask = atSignAlignments(encoded, 0, encoded.length);
        for (let offset = 0; offset < 4; offset++) {
          if (/^[A-Za-z0-9+/_-]*$/.test(run) && Buffer.from(run.slice(offset), 'base64').includes(0x40)) expect(mask & (1 << offset), encoded).not.toBe(0);
        }
      }
    }
  });
});

describe('the base64 shortcut', () => {
  it('finds what decoding every alignment finds (planted encodings, embedded in tokens and prose)', () => {
    for (const email of EMAILS) {
      for (const encoded of encodings(email)) {
        for (const text of [encoded, `see ${encoded} now`, `tok${encoded}tok`, `${encoded}.`, `(${encoded})`, `AAAA${encoded}QQQQ`]) {
          expect(base64EmailSpans(text, false), text).toEqual(base64EmailSpans(text, true));
          expect(findPiiSpans(text), text).toEqual(findPiiSpansExhaustive(text));
        }
      }
    }
  });

  it('finds what decoding every alignment finds (seeded random base64-like text)', () => {
    const random = prng(202);
    let found = 0;
    for (let i = 0; i < 4000; i++) {
      // Random runs with a real encoded email spliced in at a random place, and plain random runs.
      const email = EMAILS[i % EMAILS.length]!;
      const encoded = Buffer.from(`${randomText(random, 'abc', i % 4)}${email}`).toString(i % 3 === 0 ? 'base64url' : 'base64');
      const noise = randomText(random, i % 2 ? AT_HEAVY : BASE64 + ' .', 10 + Math.floor(random() * 60));
      const at = Math.floor(random() * noise.length);
      const text = i % 5 === 0 ? noise : noise.slice(0, at) + encoded + noise.slice(at);
      const fast = base64EmailSpans(text, false);
      expect(fast, text).toEqual(base64EmailSpans(text, true));
      if (fast.length > 0) found++;
    }
    expect(found).toBeGreaterThan(1000);
  });
});

describe('the character prefilter (mayHoldFinding)', () => {
  it('never skips text the exhaustive scan finds something in (seeded random text of every length)', () => {
    const random = prng(303);
    const alphabets = [
      'abcdefghijklmnopqrstuvwxyz EFGHIJ.,;-_+!?\'"',
      'abcxyzQABCDEUk0123456789 @%|/:.-+()[]{}&\\=#',
      'aé ß\u00a0\u200b＠．０１２３٠١٢\u2013 @.-',
      'atdoATDO .@()[]',
    ];
    let skipped = 0;
    const wrong: string[] = [];
    for (let i = 0; i < 40000; i++) {
      const text = randomText(random, alphabets[i % alphabets.length]!, 1 + Math.floor(random() * 40));
      const exhaustive = findPiiSpansExhaustive(text);
      if (!mayHoldFinding(text)) {
        skipped++;
        if (exhaustive.length > 0 || detectValue(text).length > 0) wrong.push(text);
      }
      if (JSON.stringify(findPiiSpans(text)) !== JSON.stringify(exhaustive)) wrong.push(text);
    }
    expect(wrong).toEqual([]);
    expect(skipped).toBeGreaterThan(5000);
  });

  it('never skips a short text: every printable ASCII pair, and three-character texts', () => {
    const printable = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i));
    for (const a of printable) {
      for (const b of printable) {
        const text = a + b;
        expect(findPiiSpans(text), JSON.stringify(text)).toEqual(findPiiSpansExhaustive(text));
      }
    }
    const small = '@:.|/%aQ0 ';
    for (const a of small) for (const b of small) for (const c of small) expect(findPiiSpans(a + b + c)).toEqual(findPiiSpansExhaustive(a + b + c));
  });

  it('scrubs findings shorter than an email (a handle, an IPv6 address), as the coverage check assumes', () => {
    const context = createTransformContext(Buffer.from(Array.from({ length: 32 }, (_, i) => (i * 37 + 11) & 255)));
    for (const text of ['@jdoe', '@jo', '::1', 'hi @jdoe']) {
      expect(findPiiSpans(text).length, text).toBeGreaterThan(0);
      expect(scrubText(text, context), text).not.toBe(text);
    }
  });
});

describe('the element-name cache (decodeName)', () => {
  it('decodes every name as toString("utf8") does: thousands of colliding names, non-ASCII and invalid UTF-8, names read twice', () => {
    const random = prng(404);
    const wrong: string[] = [];
    const names: Buffer[] = [];
    for (let i = 0; i < 5000; i++) {
      const length = Math.floor(random() * 60);
      const bytes = Buffer.alloc(length);
      for (let j = 0; j < length; j++) bytes[j] = i % 3 === 0 ? 1 + Math.floor(random() * 255) : 97 + Math.floor(random() * 4);
      names.push(bytes);
    }
    for (let round = 0; round < 3; round++) {
      for (const name of names) {
        // Inside a larger buffer, at an offset, as element names are.
        const holder = Buffer.concat([Buffer.from([7, 7]), name, Buffer.from([0])]);
        const got = decodeName(holder, 2, 2 + name.length);
        if (got !== name.toString('utf8')) wrong.push(name.toString('hex'));
      }
    }
    expect(wrong).toEqual([]);
  });
});
