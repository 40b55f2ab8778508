import { parseStackConfig, type PreviewConfig, type ProdConfig, type StagingConfig } from '../../../infra/config.js';

/** Minimal valid config per stack kind, as `pulumi config` would hand it over. */
export const sharedConfig = {
  gcpProject: 'camarades-syrf',
  image: 'ghcr.io/camaradesuk/syrf-db-tools:1.2.3',
  mongoHost: 'syrf-prod.abcde.mongodb.net',
  atlasClusterName: 'syrf-prod',
  atlasProject: { projectRef: { name: 'syrf' } },
};

export const RULES_YAML = 'rules:\n  pmInvestigator:\n    fields:\n      Email: { transform: hash_email }\n';

export function prodConfig(overrides: Record<string, unknown> = {}): ProdConfig {
  return parseStackConfig('prod', { ...sharedConfig, ...overrides }) as ProdConfig;
}

export function stagingConfig(overrides: Record<string, unknown> = {}): StagingConfig {
  return parseStackConfig('staging', {
    ...sharedConfig,
    restorerServiceAccountEmail: 'syrf-db-restorer@camarades-syrf.iam.gserviceaccount.com',
    ...overrides,
  }) as StagingConfig;
}

export function previewConfig(prNumber: number, overrides: Record<string, unknown> = {}): PreviewConfig {
  return parseStackConfig(`pr-${prNumber}`, { ...sharedConfig, ...overrides }) as PreviewConfig;
}
