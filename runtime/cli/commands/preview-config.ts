import type { Command } from 'commander';
import { knownCollections, loadRules } from '../../anonymize/rules.js';
import { appendGithubOutputs, previewConfigOutputs, summarizePreviewConfig } from '../../preview-config/github-output.js';
import { parsePreviewConfig, parsePreviewConfigWithLookup, type PreviewConfig } from '../../preview-config/parse.js';
import { readPrBody } from '../../preview-config/pr-body.js';
import { snapshotKeys } from '../../store/layout.js';
import { openStore } from '../../store/open.js';
import { loggerFor } from '../context.js';
import { printJson } from '../format.js';

interface PreviewConfigOptions {
  prBody?: string;
  githubOutput?: string;
  rules: string;
  from?: string;
  json?: boolean;
}

export function registerPreviewConfigCommand(program: Command): void {
  program
    .command('preview-config')
    .description("read the PR description's #preview-config block and print the preview database's data source (seed when there is none)")
    .option('--pr-body <file>', 'PR description file, or - for stdin (default: pull_request.body from GITHUB_EVENT_PATH)')
    .option('--github-output <file>', 'append db_source, snapshot_id, anonymize, collections (and passthrough) as step outputs, e.g. "$GITHUB_OUTPUT"')
    .option('--rules <file>', 'anonymization rules file; collections must be ones it knows', 'rules/anonymization-rules.yaml')
    .option('--from <store>', 'also check that a dated snapshotId exists in this store: gs://BUCKET[/PREFIX] or file://DIR')
    .option('--json', 'print the parsed policy as JSON instead of a summary line')
    .action(async (opts: PreviewConfigOptions, cmd: Command) => {
      const logger = loggerFor(cmd);
      const body = await readPrBody(opts.prBody === undefined ? {} : { prBody: opts.prBody });
      const known = knownCollections(await loadRules(opts.rules));

      const from = opts.from;
      const config = from
        ? await parsePreviewConfigWithLookup(body, { knownCollections: known, snapshotExists: (id) => snapshotExists(from, id) })
        : parsePreviewConfig(body, { knownCollections: known });
      if (opts.githubOutput) {
        await appendGithubOutputs(opts.githubOutput, { ...previewConfigOutputs(config) });
        logger.debug(`wrote step outputs to ${opts.githubOutput}`);
      }
      print(config, opts.json === true);
    });
}

async function snapshotExists(storeUrl: string, id: string): Promise<boolean> {
  return (await openStore(storeUrl).stat(snapshotKeys(id).manifest)) !== null;
}

function print(config: PreviewConfig, json: boolean): void {
  if (json) printJson(config);
  else process.stdout.write(summarizePreviewConfig(config) + '\n');
}
