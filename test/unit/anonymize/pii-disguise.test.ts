/**
 * Red-team #3: personal data in kept free text, in the disguises people and
 * encoders put on it. Each marker must lie entirely inside one finding, so
 * scrubbing replaces all of it (no kept prefix such as `björn.ó`).
 */
import { describe, expect, it } from 'vitest';
import { findPiiSpans } from '../../../runtime/anonymize/pii.js';

const CASES: Array<[text: string, marker: string]> = [
  ['mail janeidn@universität.de today', 'janeidn@universität.de'],
  ['mail janepuny@uni.xn--p1ai today', 'janepuny@uni.xn--p1ai'],
  ['mail janefw＠uni.ac.uk today', 'janefw＠uni.ac.uk'],
  ['mail "jane quoted"@uni.ac.uk today', '"jane quoted"@uni.ac.uk'],
  ['mail janeslash/doe@uni.ac.uk today', 'janeslash/doe@uni.ac.uk'],
  ['email janeat at uni dot ac dot uk please', 'janeat at uni dot ac dot uk'],
  ['email janebr [at] uni [dot] ac [dot] uk', 'janebr [at] uni [dot] ac [dot] uk'],
  ['email janepa(at)uni(dot)ac(dot)uk', 'janepa(at)uni(dot)ac(dot)uk'],
  ['email janeent&#64;uni.ac.uk', 'janeent&#64;uni.ac.uk'],
  ['email janecom&commat;uni.ac.uk', 'janecom&commat;uni.ac.uk'],
  ['email janejs\\u0040uni.ac.uk', 'janejs\\u0040uni.ac.uk'],
  ['email janeqp=40uni.ac.uk', 'janeqp=40uni.ac.uk'],
  ['email janezw@uni\u200b.ac.uk', 'janezw@uni\u200b.ac.uk'],
  ['email björn.ólafsson@uni.is', 'björn.ólafsson@uni.is'],
  ['hex 6a616e6568657840756e692e61632e756b', '6a616e6568657840756e692e61632e756b'],
  [`b64 ${Buffer.from('janeb64split@uni.ac.uk').toString('base64').replace(/(.{12})/, '$1\n')}`, Buffer.from('janeb64split@uni.ac.uk').toString('base64').replace(/(.{12})/, '$1\n')],
  [`b64 ${Buffer.from('janeutf16@uni.ac.uk', 'utf16le').toString('base64')}`, Buffer.from('janeutf16@uni.ac.uk', 'utf16le').toString('base64')],
  ['call 030 12345678 now', '030 12345678'],
  ['call 06-12345678 now', '06-12345678'],
  ['call 0131–650–1000 now', '0131–650–1000'],
  ['call +44\u00a0131\u00a0650\u00a01001 now', '+44\u00a0131\u00a0650\u00a01001'],
  ['call ０１３１ ６５０ １００９ now', '０１３１ ６５０ １００９'],
  ['call ٠١٣١٦٥٠١٠١٠ now', '٠١٣١٦٥٠١٠١٠'],
  ['orcid 0000000218250097 here', '0000000218250097'],
  ['orcid 0000 0002 1825 0098 here', '0000 0002 1825 0098'],
  ['from 2001:db8:85a3::8a2e:370:7334 at noon', '2001:db8:85a3::8a2e:370:7334'],
  ['ping @janehandle_doe on slack', '@janehandle_doe'],
  ['see https://www.ed.ac.uk/profile/jane-descdoe for more', 'https://www.ed.ac.uk/profile/jane-descdoe'],
  ['see https://www.uni.edu/people/jane-profdoe/index.html.', 'https://www.uni.edu/people/jane-profdoe/index.html'],
  ['see www.cs.uni.edu/~jdoe42', 'www.cs.uni.edu/~jdoe42'],
  ['see https://staff.uni.ac.uk/staff/jane.doe', 'https://staff.uni.ac.uk/staff/jane.doe'],
];

describe('detector sees through disguises (red-team #3)', () => {
  for (const [text, marker] of CASES) {
    it(`covers ${JSON.stringify(marker)}`, () => {
      const at = text.indexOf(marker);
      expect(at).toBeGreaterThanOrEqual(0);
      const spans = findPiiSpans(text);
      const covering = spans.find((s) => s.start <= at && s.end >= at + marker.length);
      expect(covering, JSON.stringify(spans)).toBeDefined();
    });
  }

  it('leaves ordinary research prose alone', () => {
    const prose = [
      'Rats were housed at 21 °C and looked at the data at day 7 (n=40 animals).',
      'Available at doi.org/10.1000/182 and at https://www.ed.ac.uk/research/stroke.',
      'Infarct volume (mm3) was 12.5 ± 3.1; p < 0.05 [95% CI 1.2–3.4].',
      'Published 2019-04-12 in J Cereb Blood Flow Metab 39(4):123-130.',
    ];
    for (const text of prose) expect(findPiiSpans(text), text).toEqual([]);
  });
});
