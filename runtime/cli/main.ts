#!/usr/bin/env node
import { Command } from 'commander';
import { reportFatal } from './context.js';
import { registerCommands } from './commands/index.js';
import { toolVersion } from '../version.js';

const program = new Command()
  .name('syrf-db')
  .description('Anonymized MongoDB snapshots for SyRF preview and staging environments')
  .version(toolVersion)
  .option('--log-format <format>', 'text or json (json is the default inside Kubernetes jobs)')
  .option('-q, --quiet', 'only warnings and errors on stderr')
  .option('-v, --verbose', 'debug logging')
  .showHelpAfterError('(run with --help for usage)')
  .configureOutput({ outputError: (str, write) => write(str) })
  .exitOverride((err) => {
    // commander's own exits (help, version, usage errors) keep their codes, usage errors become 2
    process.exit(err.exitCode === 0 ? 0 : 2);
  });

registerCommands(program);
(await import('./commands/recover.js')).registerRecoverCommand(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  process.exitCode = reportFatal(error);
}
