/**
 * The `syrf-db` command tree: global options and every command. main.ts
 * runs it; tests import it to parse exactly what the real CLI parses.
 */
import { Command, type CommanderError } from 'commander';
import { ExitCode } from '../errors.js';
import { toolVersion } from '../version.js';
import { registerCommands } from './commands/index.js';

export interface BuildProgramOptions {
  /**
   * What happens when commander itself ends the run (help, version, a usage
   * error). The CLI exits, keeping 0 for help/version and making every usage
   * error exit `usage`; tests throw instead.
   */
  onCommanderExit?: (error: CommanderError) => never;
  /** Where commander writes help and usage errors (default: stdout/stderr). */
  output?: { writeOut?: (text: string) => void; writeErr?: (text: string) => void };
}

export function buildProgram(options: BuildProgramOptions = {}): Command {
  const onExit = options.onCommanderExit ?? ((error: CommanderError) => process.exit(error.exitCode === 0 ? ExitCode.ok : ExitCode.usage));
  const program = new Command()
    .name('syrf-db')
    .description('Anonymized MongoDB snapshots for SyRF preview and staging environments')
    .version(toolVersion)
    .option('--log-format <format>', 'text or json (json is the default inside Kubernetes jobs)')
    .option('-q, --quiet', 'only warnings and errors on stderr')
    .option('-v, --verbose', 'debug logging')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ outputError: (str, write) => write(str), ...options.output })
    .exitOverride(onExit);
  registerCommands(program);
  // Subcommands end the same way as the root (commander does not inherit an override added before they exist).
  const inherit = (command: Command) => {
    for (const sub of command.commands) {
      sub.exitOverride(onExit);
      if (options.output) sub.configureOutput({ outputError: (str, write) => write(str), ...options.output });
      inherit(sub);
    }
  };
  inherit(program);
  return program;
}
