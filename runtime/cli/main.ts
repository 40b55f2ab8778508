#!/usr/bin/env node
import { reportFatal } from './context.js';
import { buildProgram } from './program.js';
import { registerProcessSecrets } from './secrets.js';

registerProcessSecrets(process.env, process.argv);
try {
  await buildProgram().parseAsync(process.argv);
} catch (error) {
  process.exitCode = reportFatal(error);
}
