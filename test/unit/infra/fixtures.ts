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

export const PREVIEW_DEPLOYER = 'syrf-db-preview-deployer@camarades-syrf.iam.gserviceaccount.com';

/** A throwaway Ed25519 public key (SPKI DER, base64), as `syrf-db keys generate` prints it. */
export const MANIFEST_PUBLIC_KEY = 'MCowBQYDK2VwAyEAJ+JdjAgeysdOw3WFHrqNxdpY+0eW1r9DwOa3MF6jnM8=';

export function prodConfig(overrides: Record<string, unknown> = {}): ProdConfig {
  return parseStackConfig('prod', { ...sharedConfig, previewDeployerEmail: PREVIEW_DEPLOYER, manifestPublicKeys: MANIFEST_PUBLIC_KEY, ...overrides }) as ProdConfig;
}

/** Staging and previews live on the non-production cluster. */
export const nonProdCluster = { mongoHost: 'syrf-nonprod.abcde.mongodb.net', atlasClusterName: 'syrf-nonprod' };

export function stagingConfig(overrides: Record<string, unknown> = {}): StagingConfig {
  return parseStackConfig('staging', {
    ...sharedConfig,
    ...nonProdCluster,
    restorerServiceAccountEmail: 'syrf-db-restorer@camarades-syrf.iam.gserviceaccount.com',
    manifestPublicKeys: MANIFEST_PUBLIC_KEY,
    ...overrides,
  }) as StagingConfig;
}

export function previewConfig(prNumber: number, overrides: Record<string, unknown> = {}): PreviewConfig {
  return parseStackConfig(`pr-${prNumber}`, { ...sharedConfig, ...nonProdCluster, ...overrides }) as PreviewConfig;
}
