/** The bench's verdicts as a terminal table and as markdown. Pure. */
import type { RatioRow, RssRow, Status } from './targets.js';

const MARK: Record<Status, string> = { pass: 'PASS', fail: 'FAIL', 'n/a': 'n/a', info: 'info' };

function shorten(text: string, max = 70): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function number(value: number | null, digits = 1): string {
  return value === null ? 'n/a' : value.toFixed(digits);
}

function ratioCells(row: RatioRow): string[] {
  return [
    row.label,
    `${number(row.subject.value)} ${row.unit}`,
    `${row.baseline.name}: ${number(row.baseline.value)} ${row.unit}`,
    row.ratio === null ? shorten(row.note ?? 'n/a') : `${row.ratio.toFixed(2)}×`,
    row.target === null ? '—' : `≥ ${row.target.toFixed(1)}×`,
    MARK[row.status],
  ];
}

function rssCells(row: RssRow): string[] {
  const growth = row.defaultMiB !== null && row.fourTimesMiB !== null ? `${(row.fourTimesMiB / row.defaultMiB).toFixed(2)}× the memory for 4× the data` : '';
  return [
    row.label,
    `4×: ${number(row.fourTimesMiB, 0)} MiB`,
    `1×: ${number(row.defaultMiB, 0)} MiB`,
    row.note && (row.defaultMiB === null || row.fourTimesMiB === null) ? shorten(row.note) : growth,
    `< ${row.limitMiB} MiB, flat`,
    MARK[row.status],
  ];
}

const HEADER = ['measurement', 'ours', 'baseline', 'ratio', 'target', 'result'];

export function tableRows(ratios: readonly RatioRow[], memory: readonly RssRow[]): string[][] {
  return [...ratios.map(ratioCells), ...memory.map(rssCells)];
}

export function formatTerminalTable(rows: readonly string[][]): string {
  const all = [HEADER, ...rows];
  const widths = HEADER.map((_, column) => Math.max(...all.map((row) => (row[column] ?? '').length)));
  const line = (row: readonly string[]) => row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd();
  return [line(HEADER), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function formatMarkdownTable(rows: readonly string[][]): string {
  const escape = (cell: string) => cell.replace(/\|/g, '\\|');
  return [
    `| ${HEADER.join(' | ')} |`,
    `|${HEADER.map(() => '---').join('|')}|`,
    ...rows.map((row) => `| ${row.map(escape).join(' | ')} |`),
  ].join('\n');
}
