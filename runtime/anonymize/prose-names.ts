/**
 * Person names in kept free text (abstracts, notes) where the text itself
 * says a name follows, replaced by a keyed fake name (the one `fake_name`
 * gives that name, so the text still reads naturally):
 *  - after an honorific: `Dr. Jane Doe`, `Prof Jane Q. Doe`, `Ms Doe` (the honorific stays);
 *  - before an address in angle brackets: `Jane Doe <jane@uni.ac.uk>` (the address is scrubbed as an email);
 *  - after a phrase that introduces a person: `contact Jane Doe`, `thanks to …`, `courtesy of …`,
 *    `attn: …`, `cc: …`, `reviewed/written/prepared/submitted by …`, `corresponding author: …`.
 * Names anywhere else in prose (a bare "Jane Doe") are NOT detected: telling
 * them from method names, places and eponyms needs more than a pattern; see
 * the residual risks in docs/anonymization.md.
 */
import { fakeName } from './transforms/fake-name.js';
import type { TransformContext, ValueTransform } from './transforms/types.js';

const NAME_WORD = String.raw`[A-Z][a-z\u00df-\u00ff'’-]{1,30}`;
const INITIAL = String.raw`[A-Z]\.`;
/** One to three capitalised words, with optional middle initials ("Jane Q. Doe", "Ana María Ruiz-López"). */
const NAME = String.raw`${NAME_WORD}(?:\s{1,3}(?:${INITIAL}\s{1,3})?${NAME_WORD}){0,2}`;

const HONORIFIC = String.raw`\b(?:Dr|Prof|Professor|Mr|Mrs|Ms|Mx|Miss|Sir|Dame)\.?\s{1,3}`;
const INTRODUCER = String.raw`\b(?:[Cc]ontact(?:ed)?|[Tt]hanks\s+to|[Cc]ourtesy\s+of|[Aa]ttn|[Cc]c|(?:[Rr]eviewed|[Ww]ritten|[Pp]repared|[Ss]ubmitted|[Aa]pproved)\s+by|[Cc]orresponding\s+author)\s*:?\s{1,3}`;

// Each pattern captures the name; lookbehind-free so the engine stays linear on long text.
const PATTERNS: RegExp[] = [
  new RegExp(String.raw`(${HONORIFIC})(${NAME})`, 'g'),
  new RegExp(String.raw`(${INTRODUCER})(?:${HONORIFIC})?(${NAME})`, 'g'),
  new RegExp(String.raw`()(${NAME})(?=\s{0,3}<[^<>\s]{1,200}@)`, 'g'),
];

/** Text without any of these cannot match a pattern above (most prose): the patterns are not run. */
const MAY_HOLD_NAME = /Dr|Prof|M[rsx]|Miss|Sir|Dame|<|[Cc]ontact|[Tt]hanks|[Cc]ourtesy|[Aa]ttn|[Cc]c|d\s+by|author/;

const fakeNames = new WeakMap<TransformContext, ValueTransform>();

/** `text` with each introduced name replaced; the same string object when there is none. */
export function scrubProseNames(text: string, context: TransformContext): string {
  if (text.length < 4 || !MAY_HOLD_NAME.test(text)) return text;
  let fake = fakeNames.get(context);
  if (!fake) fakeNames.set(context, (fake = fakeName.create({ part: 'full' }, context)));
  let out = text;
  for (const pattern of PATTERNS) {
    out = out.replace(pattern, (_match, lead: string, name: string) => `${lead}${fake!(normalizeName(name)) as string}`);
  }
  return out === text ? text : out;
}

/** The same person written with other spacing or a middle initial gets the same fake name. */
function normalizeName(name: string): string {
  return name
    .replace(/\s+[A-Z]\.(?=\s)/g, '')
    .replace(/\s+/g, ' ')
    .toLowerCase();
}
