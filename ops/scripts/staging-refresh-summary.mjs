#!/usr/bin/env node
// Job summary for the manual staging refresh workflow. Reads the refresh Job's JSON log on
// stdin (`kubectl logs job/staging-refresh-<id>`), finds the "run report" line the runtime
// writes at the end of every staging refresh (the same facts as the chat message: snapshot
// id, source age, counts, duration, outcome; never data values) and appends a Markdown
// summary to $GITHUB_STEP_SUMMARY (or prints it when that is unset). Exits 0 even without a
// report, saying so, because the summary must never hide the refresh's own result.
import { appendFileSync } from 'node:fs';

const input = await new Promise((resolve) => {
  let text = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (chunk) => (text += chunk));
  process.stdin.on('end', () => resolve(text));
});

let report = null;
for (const line of input.split('\n')) {
  try {
    const record = JSON.parse(line);
    if (record && record.msg === 'run report' && record.report && record.report.kind === 'staging-refresh') report = record.report;
  } catch {
    // Not a JSON log line.
  }
}

const age = (seconds) => {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds)) return 'unknown';
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  if (seconds < 2 * 86400) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86400).toFixed(1)} d`;
};
const cell = (value) => String(value ?? '-').replace(/[|\n\r`]/g, ' ');

const lines = report
  ? [
      `### Staging refresh: ${cell(report.outcome)}`,
      '',
      '| | |',
      '|---|---|',
      `| Snapshot | \`${cell(report.snapshotId ?? 'unknown')}\` |`,
      `| Source age | ${age(report.sourceAgeSeconds)} |`,
      `| Collections | ${cell(report.collections)} |`,
      `| Documents | ${cell(report.documents)} |`,
      `| Duration | ${Math.round(Number(report.durationSeconds) || 0)} s |`,
      `| Outcome | ${cell(report.outcome)}${report.reason ? ` (${cell(report.reason)})` : ''} |`,
      '',
    ]
  : ['### Staging refresh', '', 'No run report in the Job log (the Job did not get as far as reporting); see the log above.', ''];

const text = lines.join('\n') + '\n';
if (process.env.GITHUB_STEP_SUMMARY) appendFileSync(process.env.GITHUB_STEP_SUMMARY, text);
else process.stdout.write(text);
