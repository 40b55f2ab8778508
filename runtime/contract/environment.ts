/** Environment variables the CLI reads, which Jobs and workflows set by name. */
export const ENV = {
  /** Connection string; Jobs pass it from a Secret so the password never appears in argv. */
  mongoUri: 'MONGO_URI',
  anonymizationKey: 'SYRF_ANONYMIZATION_KEY',
  /** Extra production database names the target guard refuses, comma-separated. */
  productionDatabases: 'SYRF_PRODUCTION_DBS',
  logFormat: 'SYRF_LOG_FORMAT',
} as const;
