import { readFileSync } from 'node:fs';
import * as pulumi from '@pulumi/pulumi';
import { parseStackConfig, rawProjectConfig, StackConfigError } from './config.js';
import { defineStack, definedOutputs } from './program.js';

/**
 * Entry point for `pulumi up --stack prod|staging|pr-<N>`: validate the
 * stack's config first (a bad value stops here with one clear message),
 * then declare what that kind of stack owns and export its outputs.
 */

function loadConfig() {
  const raw = rawProjectConfig(pulumi.runtime.allConfig(), pulumi.getProject());
  // The GCP provider's project is the natural default for ours.
  if (raw['gcpProject'] === undefined) {
    const gcpProject = new pulumi.Config('gcp').get('project');
    if (gcpProject !== undefined) raw['gcpProject'] = gcpProject;
  }
  try {
    return parseStackConfig(pulumi.getStack(), raw);
  } catch (error) {
    if (error instanceof StackConfigError) throw new pulumi.RunError(error.message);
    throw error;
  }
}

const rulesPath = new URL('../rules/anonymization-rules.yaml', import.meta.url);

// A default export: Pulumi takes its keys as the stack outputs, so a stack exports only what it has.
export default definedOutputs(defineStack(loadConfig(), readFileSync(rulesPath, 'utf8')));
