/** The bench's arithmetic and verdicts (pure; no timing is asserted anywhere). */
import { describe, expect, it } from 'vitest';
import { parseBenchArgs, parseScale } from '../../../bench/args.js';
import { childError, parseGnuTimeMaxRss } from '../../../bench/peak-rss.js';
import { formatMarkdownTable, tableRows } from '../../../bench/report.js';
import { median } from '../../../bench/stats.js';
import { ratioRow, rssRow } from '../../../bench/targets.js';

describe('bench verdicts', () => {
  it('takes the median, not the mean, so one disturbed run does not move the result', () => {
    expect(median([1, 100, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('passes a ratio at or above its target, fails below, and never invents one without a baseline', () => {
    const row = (subject: number | null, baseline: number | null, unavailable?: string) =>
      ratioRow({ id: 'x', label: 'x', unit: 'MB/s', subject: { name: 'ours', value: subject }, baseline: { name: 'floor', value: baseline }, target: 0.9, ...(unavailable ? { unavailable } : {}) });
    expect(row(9, 10)).toMatchObject({ ratio: 0.9, status: 'pass' });
    expect(row(8, 10)).toMatchObject({ status: 'fail' });
    const missing = row(8, null, 'n/a (mongo-tools not installed)');
    expect(missing).toMatchObject({ ratio: null, status: 'n/a', note: 'n/a (mongo-tools not installed)' });
    expect(formatMarkdownTable(tableRows([missing], []))).toContain('n/a (mongo-tools not installed)');
  });

  it('calls memory flat only when 4× the data stays under the limit and within 25% of the 1× peak', () => {
    expect(rssRow({ id: 'r', label: 'r', defaultMiB: 200, fourTimesMiB: 240 }).status).toBe('pass');
    expect(rssRow({ id: 'r', label: 'r', defaultMiB: 100, fourTimesMiB: 180 }).status).toBe('fail');
    expect(rssRow({ id: 'r', label: 'r', defaultMiB: 230, fourTimesMiB: 260 }).status).toBe('fail');
  });

  it('reads peak RSS and the child\'s own error from GNU time -v output', () => {
    const stderr = 'error: no such snapshot\n  what to do: list them\nCommand exited with non-zero status 2\n\tMaximum resident set size (kbytes): 262144\n';
    expect(parseGnuTimeMaxRss(stderr)).toBe(256);
    expect(childError(stderr)).toBe('error: no such snapshot');
  });

  it('accepts a scale as studies or as MiB, and refuses nonsense with the usage', () => {
    expect(parseScale('20000')).toBe(20000);
    expect(parseScale('59MiB')).toBeGreaterThan(19000);
    expect(() => parseScale('lots')).toThrow(/--scale must be/);
    expect(() => parseBenchArgs(['--runs', '0'])).toThrow(/positive integer/);
    expect(() => parseBenchArgs(['--fast'])).toThrow(/unknown option --fast/);
  });
});
