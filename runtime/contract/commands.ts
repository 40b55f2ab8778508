/**
 * The `syrf-db` subcommands. The policy pack recognises a workload's invocation by
 * these names, so a command missing here would slip past its checks.
 */
export const CLI_COMMANDS = [
  'snapshot',
  'list',
  'show',
  'verify',
  'prune',
  'promote',
  'anonymize',
  'rules',
  'restore',
  'clone',
  'preview-config',
  'drop',
  'sweep',
  'ping',
  'keys',
  'recover',
  'drill',
  'staging-refresh',
] as const;
export type CliCommand = (typeof CLI_COMMANDS)[number];

/** Commands that write into a non-production database, and so must name their own target. */
export const TARGET_WRITING_COMMANDS: readonly CliCommand[] = ['restore', 'clone', 'drop', 'sweep', 'recover', 'drill', 'staging-refresh'];
