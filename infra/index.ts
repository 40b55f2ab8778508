import { readFileSync } from 'node:fs';
import * as pulumi from '@pulumi/pulumi';
import { parseStackConfig, rawProjectConfig, StackConfigError } from './config.js';
import { defineStack } from './program.js';

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
const outputs = defineStack(loadConfig(), readFileSync(rulesPath, 'utf8'));

export const bucketName = outputs.bucketName;
export const producerServiceAccountEmail = outputs.producerServiceAccountEmail;
export const restorerServiceAccountEmail = outputs.restorerServiceAccountEmail;
export const producerCronJobName = outputs.producerCronJobName;
export const rulesConfigMapName = outputs.rulesConfigMapName;
export const databaseUserSecretName = outputs.databaseUserSecretName;
export const previewDatabaseName = outputs.previewDatabaseName;
export const previewJobName = outputs.previewJobName;
export const stagingRefreshJobName = outputs.stagingRefreshJobName;
export const drillServiceAccountEmail = outputs.drillServiceAccountEmail;
export const stagingRefreshCronJobName = outputs.stagingRefreshCronJobName;
export const drillCronJobName = outputs.drillCronJobName;
