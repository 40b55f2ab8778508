/** The coverage report as text for `rules check`: paths and kinds only, never values. */
import { renderTable } from '../cli/format.js';
import { describeFinding, type CoverageReport } from './coverage.js';

export function formatCoverage(report: CoverageReport): string {
  const parts: string[] = [];
  const checked = report.collections.filter((c) => !c.excluded);
  const scanned = (c: { scanned: number; total: number }) => (c.total > c.scanned ? `${c.scanned} of ${c.total}` : `${c.scanned}`);
  parts.push(`checked ${checked.length} collection(s): ${checked.map((c) => `${c.collection} (${scanned(c)})`).join(', ') || 'none'}\n`);
  if (report.findings.length > 0) {
    parts.push(`\n${report.findings.length} PROBLEM(S) (values are never shown):\n`);
    parts.push(report.findings.map((f) => `  ${describeFinding(f)}${f.documents > 0 ? ` in ${f.documents} document(s)` : ''}\n`).join(''));
  } else {
    parts.push('no problems: every path has a rule or a safe default\n');
  }
  if (report.accepted.length > 0) {
    parts.push('\nkept on purpose (looks like personal data; kept by a rule with a reason, strings scrubbed):\n');
    parts.push(renderTable(['collection', 'field', 'looks like', 'rule', 'reason'], report.accepted.map((a) => [a.collection, a.path, a.kinds.join(', '), a.rulePath, a.reason])));
  }
  if (report.keptBySubtree.length > 0) {
    parts.push('\nfields kept by keep_subtree or a keeping default (review new ones):\n');
    parts.push(renderTable(['collection', 'field', 'kept by'], report.keptBySubtree.map((k) => [k.collection, k.path, k.rulePath])));
  }
  if (report.warnings.length > 0) parts.push(`\nwarnings:\n${report.warnings.map((w) => `  ${w}\n`).join('')}`);
  return parts.join('');
}
