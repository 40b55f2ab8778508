import { createHmac } from 'node:crypto';
import type { Logger } from '../ops/log.js';
import { NameRedactor } from '../anonymize/name-redactor.js';
import { anonymizeArchive, type AnonymizeOptions } from '../anonymize/filter.js';
import type { Rules } from '../anonymize/rules.js';
import type { AnonymizationStage } from './take.js';

/** Tells keys apart in manifests without revealing anything about them. */
export function keyFingerprint(key: Buffer): string {
  return createHmac('sha256', key).update('syrf-db-tools/key-fingerprint/v1').digest('hex').slice(0, 16);
}

/**
 * The capture-side anonymization: pseudonymize and drop exclusions, but keep
 * every document (size limits are a preview concern, applied at restore,
 * so staging can still get the whole database).
 */
export function captureAnonymization(rules: Rules, key: Buffer, logger: Logger, check: AnonymizeOptions['check'] = {}): AnonymizationStage {
  const names = new NameRedactor(rules);
  return {
    // The coverage check runs inside anonymizeArchive (once), with the caller's sample size and strictness.
    transform: (events) => anonymizeArchive(events, { rules, key, applySizeLimits: false, logger, check }),
    rulesSha256: rules.sha256,
    keyFingerprint: keyFingerprint(key),
    sizeLimitsApplied: false,
    publicName: (collection) => names.collection(collection),
  };
}
