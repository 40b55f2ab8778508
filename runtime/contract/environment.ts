/** Environment variables the CLI reads, which Jobs and workflows set by name. */
export const ENV = {
  /** Connection string; Jobs pass it from a Secret so the password never appears in argv. */
  mongoUri: 'MONGO_URI',
  anonymizationKey: 'SYRF_ANONYMIZATION_KEY',
  /** Extra production database names the target guard refuses, comma-separated. */
  productionDatabases: 'SYRF_PRODUCTION_DBS',
  logFormat: 'SYRF_LOG_FORMAT',
  /** The producer's Ed25519 private key (from a Secret): it signs every manifest. */
  manifestSigningKey: 'SYRF_MANIFEST_SIGNING_KEY',
  /** Public keys restores accept manifests from; set (even empty) means anonymized manifests must be signed. */
  manifestPublicKeys: 'SYRF_MANIFEST_PUBLIC_KEYS',
} as const;
