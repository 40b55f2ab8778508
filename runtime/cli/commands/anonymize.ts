import { InvalidArgumentError, type Command } from 'commander';
import { parseSampleSize, type SampleSize } from '../../anonymize/check-stage.js';
import { loadAnonymizationKey } from '../../anonymize/key.js';
import { loadRules } from '../../anonymize/rules.js';
import { anonymizeFile } from '../../io/anonymize-file.js';
import { loggerFor, parseList } from '../context.js';

interface AnonymizeCommandOptions {
  rules: string;
  input: string;
  output: string;
  gzip?: boolean;
  keyFile?: string;
  collections?: string;
  sizeLimits: boolean;
  checkSample: SampleSize;
  strict?: boolean;
}

function sampleOption(value: string): SampleSize {
  try {
    return parseSampleSize(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

export function registerAnonymizeCommand(program: Command): void {
  program
    .command('anonymize')
    .description('stream a mongodump archive through the anonymization rules (gzip input detected automatically)')
    .requiredOption('--rules <file>', 'anonymization rules, e.g. rules/anonymization-rules.yaml')
    .requiredOption('--input <path>', 'archive to read, or - for stdin')
    .requiredOption('--output <path>', 'archive to write, or - for stdout (a path is written atomically)')
    .option('--gzip', 'gzip the output, as mongodump --gzip does')
    .option('--key-file <path>', 'file holding the HMAC key (default: $SYRF_ANONYMIZATION_KEY)')
    .option('--collections <list>', 'keep only these collections (comma-separated)')
    .option('--check-sample <n|all>', 'documents per collection the coverage check reads (uniform sample), or all', sampleOption, 'all')
    .option('--strict', 'rules that match nothing (a typo, a field or collection that is gone) refuse the run too (`rules check` does this by default)')
    .option('--no-size-limits', 'copy every document (ignore size_limits and follows), e.g. for staging')
    .action(async (opts: AnonymizeCommandOptions, cmd: Command) => {
      const logger = loggerFor(cmd);
      const rules = await loadRules(opts.rules);
      const key = await loadAnonymizationKey(opts.keyFile !== undefined ? { keyFile: opts.keyFile } : {});
      const summary = await anonymizeFile({
        input: opts.input,
        output: opts.output,
        gzip: opts.gzip === true,
        rules,
        key,
        applySizeLimits: opts.sizeLimits,
        coverage: { sample: opts.checkSample, strict: opts.strict === true },
        collections: parseList(opts.collections),
        logger,
      });
      const documents = summary.reduce((n, s) => n + s.documents, 0);
      logger.info(`anonymized archive written to ${opts.output === '-' ? 'stdout' : opts.output}`, {
        collections: summary.length,
        documents,
        rulesSha256: rules.sha256,
      });
    });
}
