import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { randomBytes } from 'node:crypto';
import { parseSampleSize, type SampleSize } from '../../anonymize/check-stage.js';
import { refuseOnFindings } from '../../anonymize/coverage.js';
import { formatCoverage } from '../../anonymize/coverage-report.js';
import { loadAnonymizationKey } from '../../anonymize/key.js';
import { PREVIEW_WARNING, formatPreviewTable, previewAnonymization } from '../../anonymize/preview.js';
import { buildSkeleton, writeNewFile } from '../../anonymize/rules-init.js';
import { loadRules } from '../../anonymize/rules.js';
import { checkSource, chooseSource, describeSource, loadSamples } from '../../io/sample-source.js';
import { loggerFor, parseList } from '../context.js';
import { printJson } from '../format.js';

interface SourceOptions {
  uri?: string;
  db?: string;
  archive?: string;
  from?: string;
  snapshot?: string;
  sample: SampleSize;
  collections?: string;
  json?: boolean;
}

function sampleOption(value: string): SampleSize {
  try {
    return parseSampleSize(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

function withSourceOptions(command: Command, defaultSample: SampleSize): Command {
  return command
    .option('--uri <uri>', 'read a live database (with --db)')
    .option('--db <name>', 'database to read')
    .option('--archive <path>', 'read a mongodump archive file (gzip or not)')
    .option('--from <store>', 'read a stored snapshot (with --snapshot): gs://BUCKET[/PREFIX] or file://DIR')
    .option('--snapshot <id>', 'snapshot id or "latest"')
    .option('--sample <n|all>', 'documents read per collection (uniformly sampled), or all', sampleOption, defaultSample)
    .option('--collections <list>', 'only these collections (comma-separated)');
}

export function registerRulesCommand(program: Command): void {
  const rules = program.command('rules').description('validate, check, preview and start anonymization rules');

  rules
    .command('validate')
    .description('validate the rules file only (no data needed); errors name file, line and key')
    .requiredOption('--rules <file>', 'anonymization rules file')
    .action(async (opts: { rules: string }) => {
      const loaded = await loadRules(opts.rules);
      process.stdout.write(`${opts.rules}: valid (${loaded.collections.size} collections with rules, sha256 ${loaded.sha256})\n`);
    });

  withSourceOptions(rules.command('check'), 'all')
    .description('read every document (or a uniform sample) and fail (exit 5) on any path without a safe decision, PII in kept values, or rules that match nothing')
    .requiredOption('--rules <file>', 'anonymization rules file')
    .option('--no-strict', 'report rules that match nothing as warnings instead of problems')
    .option('--json', 'machine-readable output')
    .option('--show-unnamed-names', 'print field/collection names no rule contains (they come from the data: only on a trusted terminal)')
    .action(async (opts: SourceOptions & { rules: string; strict: boolean; showUnnamedNames?: boolean }, cmd: Command) => {
      const logger = loggerFor(cmd);
      const loaded = await loadRules(opts.rules);
      const source = chooseSource(opts);
      logger.info(`checking ${describeSource(source)}`, { perCollection: String(opts.sample) });
      const collections = parseList(opts.collections);
      const report = await checkSource(source, loaded, { sample: opts.sample, strict: opts.strict, showUnnamedNames: opts.showUnnamedNames === true, ...(collections ? { collections } : {}) });
      if (opts.json) printJson(report);
      else process.stdout.write(formatCoverage(report));
      refuseOnFindings(report, opts.rules);
    });

  withSourceOptions(rules.command('preview'), 500)
    .description('show original → anonymized values for sampled documents (production side only)')
    .requiredOption('--rules <file>', 'anonymization rules file')
    .option('--json', 'machine-readable output')
    .option('--key-file <path>', 'file holding the HMAC key (default: $SYRF_ANONYMIZATION_KEY)')
    .option('--random-key', 'use a throwaway key (pseudonyms then differ from real runs)')
    .action(async (opts: SourceOptions & { rules: string; keyFile?: string; randomKey?: boolean }, cmd: Command) => {
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

  withSourceOptions(rules.command('init'), 'all')
    .description('scan a database or snapshot and write a complete v2 rules skeleton: every path, its types, a proposed transform')
    .option('--output <file>', 'write the skeleton here (never overwrites); default: stdout')
    .action(async (opts: SourceOptions & { output?: string }, cmd: Command) => {
      const logger = loggerFor(cmd);
      const source = chooseSource(opts);
      logger.info(`scanning ${describeSource(source)}`, { perCollection: String(opts.sample) });
      const samples = await loadSamples(source, null, { size: opts.sample, collections: parseList(opts.collections) });
      const skeleton = buildSkeleton(samples, describeSource(source));
      if (opts.output === undefined) process.stdout.write(skeleton);
      else {
        await writeNewFile(opts.output, skeleton);
        logger.info(`rules skeleton written to ${opts.output}`, { collections: samples.length });
      }
    });
}
