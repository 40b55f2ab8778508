import type { Command } from 'commander';
import { registerSnapshotCommand } from './snapshot.js';
import { registerListCommand } from './list.js';
import { registerShowCommand } from './show.js';
import { registerVerifyCommand } from './verify.js';
import { registerPruneCommand } from './prune.js';
import { registerPromoteCommand } from './promote.js';
import { registerAnonymizeCommand } from './anonymize.js';
import { registerRulesCommand } from './rules.js';
import { registerRestoreCommand } from './restore.js';
import { registerCloneCommand } from './clone.js';
import { registerPreviewConfigCommand } from './preview-config.js';
import { registerKeysCommand } from './keys.js';
import { registerRecoverCommand } from './recover.js';
import { registerDropCommand, registerSweepCommand } from './drop.js';
import { registerPingCommand } from './ping.js';
import { registerDrillCommand } from './drill.js';
import { registerStagingRefreshCommand } from './staging-refresh.js';

/**
 * One line per command; each command lives in its own file and only parses
 * options and prints results. The work happens in the runtime modules.
 */
export function registerCommands(program: Command): void {
  registerSnapshotCommand(program);
  registerListCommand(program);
  registerShowCommand(program);
  registerVerifyCommand(program);
  registerPruneCommand(program);
  registerPromoteCommand(program);
  registerAnonymizeCommand(program);
  registerRulesCommand(program);
  registerRestoreCommand(program);
  registerCloneCommand(program);
  registerPreviewConfigCommand(program);
  registerKeysCommand(program);
  registerRecoverCommand(program);
  registerDropCommand(program);
  registerSweepCommand(program);
  registerPingCommand(program);
  registerDrillCommand(program);
  registerStagingRefreshCommand(program);
}
