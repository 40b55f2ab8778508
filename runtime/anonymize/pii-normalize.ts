/**
 * A detection view of text: the same characters a reader sees, with the
 * disguises people (and encoders) put on personal data taken off, and a map
 * back to offsets in the original so a finding replaces the whole original
 * span. Linear: every input position is read a bounded number of times.
 *
 * Taken off: compatibility forms (NFKC: fullwidth `＠` and digits), zero-width
 * and soft-hyphen characters, other scripts' decimal digits, dash and space
 * variants (en dash, no-break space), `&#64;` `&#x40;` `&commat;` `\u0040`
 * `=40` (quoted-printable) for `@`, and spelled-out `[at]` `(at)` `{at}`
 * ` at ` / `[dot]` `(dot)` ` dot ` for `@` / `.`.
 */
export interface NormalizedText {
  text: string;
  /** Original offset where normalized char i starts. */
  from: number[];
  /** Original offset just after the unit that produced normalized char i. */
  to: number[];
  identity?: boolean;
}

const ZERO_WIDTH = new Set([0x200b, 0x200c, 0x200d, 0x2060, 0xfeff, 0x00ad, 0x180e]);
const DIGIT_ZEROS = [0x0660, 0x06f0, 0x07c0, 0x0966, 0x09e6, 0x0a66, 0x0ae6, 0x0b66, 0x0be6, 0x0c66, 0x0ce6, 0x0d66, 0x0e50, 0x0ed0, 0x0f20, 0x1040, 0x17e0, 0x1810];

/** Spelled tokens and the character they stand for; matched case-insensitively at the current position. */
const TOKENS: Array<[string, string]> = [
  ['&#64;', '@'], ['&#x40;', '@'], ['&commat;', '@'], ['\\u0040', '@'], ['\\x40', '@'], ['=40', '@'],
  ['&#46;', '.'], ['&period;', '.'], ['\\u002e', '.'], ['=2e', '.'],
  ['[at]', '@'], ['(at)', '@'], ['{at}', '@'], ['[@]', '@'], ['(@)', '@'], [' [at] ', '@'], [' (at) ', '@'], [' at ', '@'],
  ['[dot]', '.'], ['(dot)', '.'], ['{dot}', '.'], ['[.]', '.'], [' [dot] ', '.'], [' (dot) ', '.'], [' dot ', '.'],
  // Zero-padded and double-escaped entities, angle-bracketed and hyphenated spellings, spaced separators,
  // and the escaped dot of a regular expression pattern.
  ['&#064;', '@'], ['&#0064;', '@'], ['&#x040;', '@'], ['&#x0040;', '@'], ['&amp;#64;', '@'], ['&amp;#064;', '@'], ['&amp;#x40;', '@'], ['&amp;commat;', '@'],
  ['&#046;', '.'], ['&#x2e;', '.'], ['&#x02e;', '.'], ['&#x002e;', '.'], ['&amp;#46;', '.'],
  ['<at>', '@'], [' <at> ', '@'], ['-at-', '@'], ['<dot>', '.'], [' <dot> ', '.'], ['-dot-', '.'],
  [' @ ', '@'], [' . ', '.'], ['\\.', '.'],
];
// Longest first so " [at] " wins over "[at]".
TOKENS.sort((a, b) => b[0].length - a[0].length);
const TOKENS_BY_START = new Map<number, Array<[string, string]>>();
for (const token of TOKENS) {
  const list = TOKENS_BY_START.get(token[0].charCodeAt(0)) ?? [];
  list.push(token);
  TOKENS_BY_START.set(token[0].charCodeAt(0), list);
}
const SPELLED_DOT = /\s(?:dot)\s|[[({]dot[\])}]/i;
/**
 * Text without any of these needs no normalizing (most ASCII prose). The
 * detector's prefilter (pii.ts mayHoldFinding) uses it too: a disguise added
 * to TOKENS must be matched here, or it is neither normalized nor scanned.
 */
export const NEEDS_WORK = /[^\x00-\x7f]|[&\\=[({<]|\s[aAdD][tToO][tT]?\s|-[aAdD][tToO][tT]?-|\s[@.]\s/;

/** `text` unchanged when nothing in it needs normalizing; offsets are then the identity. */
export function normalizeForDetection(input: string): NormalizedText {
  if (!NEEDS_WORK.test(input)) return { text: input, from: [], to: [], identity: true };
  return normalizeSlow(input);
}

function normalizeSlow(input: string): NormalizedText {
  const out: string[] = [];
  const from: number[] = [];
  const to: number[] = [];
  const push = (s: string, start: number, end: number) => {
    for (const c of s) {
      out.push(c);
      from.push(start);
      to.push(end);
      // Astral characters are two UTF-16 units in `out.join('')`: keep offsets aligned.
      if (c.length === 2) {
        from.push(start);
        to.push(end);
      }
    }
  };
  let i = 0;
  const n = input.length;
  while (i < n) {
    const code = input.charCodeAt(i);
    const candidates = TOKENS_BY_START.get(code);
    if (candidates) {
      const token = tokenAt(input, i, candidates);
      if (token) {
        push(token[1], i, i + token[0].length);
        i += token[0].length;
        continue;
      }
    }
    if (code < 128) {
      push(input[i]!, i, i + 1);
      i++;
      continue;
    }
    const cp = input.codePointAt(i)!;
    const width = cp > 0xffff ? 2 : 1;
    push(normalizeCodePoint(cp), i, i + width);
    i += width;
  }
  return { text: out.join(''), from, to };
}

function tokenAt(input: string, i: number, candidates: Array<[string, string]>): [string, string] | undefined {
  for (const token of candidates) {
    const t = token[0];
    if (input.length - i < t.length) continue;
    if (input.slice(i, i + t.length).toLowerCase() !== t) continue;
    // A bare " at " is English prose ("available at doi.org") unless a spelled-out dot follows, or it joins
    // an address-like word (with a dot, digit or underscore: "jane.doe42 at ed.ac.uk") to a domain.
    if (t === ' at ' && !SPELLED_DOT.test(input.slice(i + t.length, i + t.length + 80)) && !bareAtJoinsAddress(input, i, i + t.length)) continue;
    // A spaced "." is punctuation unless domain labels stand on both sides ("uni . ac . uk").
    if (t === ' . ' && !(/[A-Za-z0-9]$/.test(input.slice(Math.max(0, i - 1), i)) && /^[A-Za-z]{2}/.test(input.slice(i + 3, i + 5)))) continue;
    return token;
  }
  return undefined;
}

const ADDRESS_WORD = /[A-Za-z0-9][A-Za-z0-9._%+-]*$/;
const DOMAIN_AHEAD = /^[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b/;

function bareAtJoinsAddress(input: string, atStart: number, afterAt: number): boolean {
  const before = ADDRESS_WORD.exec(input.slice(Math.max(0, atStart - 64), atStart))?.[0];
  if (!before || !/[._\d]/.test(before)) return false;
  return DOMAIN_AHEAD.test(input.slice(afterAt, afterAt + 128));
}

function normalizeCodePoint(cp: number): string {
  if (cp === 0x3002 || cp === 0xff61 || cp === 0xfe12) return '.'; // ideographic full stops between domain labels
  if (ZERO_WIDTH.has(cp)) return '';
  if ((cp >= 0x2010 && cp <= 0x2015) || cp === 0x2212 || cp === 0xfe63 || cp === 0xff0d) return '-';
  if (cp === 0xa0 || (cp >= 0x2000 && cp <= 0x200a) || cp === 0x202f || cp === 0x205f || cp === 0x3000) return ' ';
  for (const zero of DIGIT_ZEROS) if (cp >= zero && cp <= zero + 9) return String(cp - zero);
  return String.fromCodePoint(cp).normalize('NFKC');
}

/** Maps a span [start, end) of the normalized text back to the original text. */
export function originalSpan(view: NormalizedText, start: number, end: number): { start: number; end: number } {
  if (view.identity) return { start, end };
  return { start: view.from[start] ?? view.to[view.to.length - 1] ?? 0, end: view.to[end - 1] ?? view.from[start] ?? 0 };
}
