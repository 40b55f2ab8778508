import type { Command } from 'commander';
import { checkCoverage, refuseUncovered, type CoverageReport } from '../../anonymize/coverage.js';
import { loadAnonymizationKey } from '../../anonymize/key.js';
import { PREVIEW_WARNING, formatPreviewTable, previewAnonymization } from '../../anonymize/preview.js';
import { loadRules } from '../../anonymize/rules.js';
import { chooseSource, describeSource, loadSamples } from '../../anonymize/sources.js';
import { loggerFor, parseList } from '../context.js';
import { printJson, renderTable } from '../format.js';
import { parsePositive } from '../options.js';
import { randomBytes } from 'node:crypto';

interface SourceOptions {
  rules: string;
  uri?: string;
  db?: string;
  archive?: string;
  from?: string;
  snapshot?: string;
  sample: number;
  collections?: string;
  json?: boolean;
}

function withSourceOptions(command: Command): Command {
  return command
    .requiredOption('--rules <file>', 'anonymization rules file')
    .option('--uri <uri>', 'sample a live database (with --db)')
    .option('--db <name>', 'database to sample')
    .option('--archive <path>', 'sample a mongodump archive file (gzip or not)')
    .option('--from <store>', 'sample a stored snapshot (with --snapshot): gs://BUCKET[/PREFIX] or file://DIR')
    .option('--snapshot <id>', 'snapshot id or "latest"')
    .option('--sample <n>', 'documents sampled per collection', parsePositive, 500)
    .option('--collections <list>', 'only these collections (comma-separated)')
    .option('--json', 'machine-readable output');
}

export function registerRulesCommand(program: Command): void {
  const rules = program.command('rules').description('validate, check and preview anonymization rules');

  rules
    .command('validate')
    .description('validate the rules file only (no data needed); errors name file, line and key')
    .requiredOption('--rules <file>', 'anonymization rules file')
    .action(async (opts: { rules: string }) => {
      const loaded = await loadRules(opts.rules);
      process.stdout.write(`${opts.rules}: valid (${loaded.collections.size} collections with rules, sha256 ${loaded.sha256})\n`);
    });

  withSourceOptions(rules.command('check'))
    .description('sample every collection and fail when PII-looking fields are not covered by a rule (exit 5)')
    .action(async (opts: SourceOptions, cmd: Command) => {
      const logger = loggerFor(cmd);
      const loaded = await loadRules(opts.rules);
      const source = chooseSource(opts);
      logger.info(`sampling ${describeSource(source)}`, { perCollection: opts.sample });
      const samples = await loadSamples(source, loaded, { size: opts.sample, collections: parseList(opts.collections) });
      const report = checkCoverage(loaded, samples);
      if (opts.json) printJson(report);
      else process.stdout.write(formatCoverage(report));
      refuseUncovered(report, opts.rules);
    });

  withSourceOptions(rules.command('preview'))
    .description('show original → anonymized values for sampled documents (production side only)')
    .option('--key-file <path>', 'file holding the HMAC key (default: $SYRF_ANONYMIZATION_KEY)')
    .option('--random-key', 'use a throwaway key (pseudonyms then differ from real runs)')
    .action(async (opts: SourceOptions & { keyFile?: string; randomKey?: boolean }, cmd: Command) => {
      const logger = loggerFor(cmd);
      logger.warn(PREVIEW_WARNING);
      const loaded = await loadRules(opts.rules);
      const key = opts.randomKey ? randomBytes(32) : await loadAnonymizationKey(opts.keyFile !== undefined ? { keyFile: opts.keyFile } : {});
      const source = chooseSource(opts);
      const samples = await loadSamples(source, loaded, { size: opts.sample, collections: parseList(opts.collections), includeExcluded: true });
      const preview = previewAnonymization(loaded, key, samples);
      if (opts.json) printJson({ warning: PREVIEW_WARNING, collections: preview });
      else process.stdout.write(`${PREVIEW_WARNING}\n\n${formatPreviewTable(preview)}\n`);
    });
}

function formatCoverage(report: CoverageReport): string {
  const parts: string[] = [];
  const sampled = report.collections.filter((c) => !c.excluded);
  parts.push(`checked ${sampled.length} collection(s): ${sampled.map((c) => `${c.collection} (${c.sampled})`).join(', ') || 'none'}\n`);
  if (report.findings.length > 0) {
    parts.push('\nUNCOVERED personal data (values are not shown):\n');
    parts.push(renderTable(['collection', 'field', 'looks like', 'in sampled docs'], report.findings.map((f) => [f.collection, f.path, f.kinds.join(', '), `${f.documents}/${f.sampled}`])));
  } else {
    parts.push('no uncovered PII-looking fields found\n');
  }
  if (report.accepted.length > 0) {
    parts.push('\nkept on purpose (keep with a reason):\n');
    parts.push(renderTable(['collection', 'field', 'looks like', 'reason'], report.accepted.map((a) => [a.collection, a.path, a.kinds.join(', '), a.reason])));
  }
  if (report.unmatchedRules.length > 0) {
    parts.push('\nrules that matched no sampled document (typo, or a field that no longer exists?):\n');
    parts.push(renderTable(['collection', 'field', 'line'], report.unmatchedRules.map((r) => [r.collection, r.path, String(r.line)])));
  }
  return parts.join('');
}
