import { z } from 'zod';
import { defineTransform, type TransformContext } from './types.js';
import { hexPrefix, mapTextLeaves } from './values.js';

export const ANONYMIZED_EMAIL_DOMAIN = 'anonymized.syrf.local';

/**
 * 80 bits of HMAC in the local part: among a million distinct addresses the
 * chance that any two collide is about 4e-13, so unique indexes on Email
 * survive. The original domain is dropped (it narrows who someone is).
 */
export const hashEmail = defineTransform({
  name: 'hash_email',
  summary: `keyed pseudonym address user-<20 hex>@${ANONYMIZED_EMAIL_DOMAIN}; any input (even without "@") gives a valid address`,
  params: z.strictObject({
    /**
     * Addresses are compared case-insensitively by default: one person typed
     * as Jane@Uni.org in one collection and jane@uni.org in another must get
     * one pseudonym, or the pseudonyms themselves tell the copies apart.
     * `case_sensitive: true` keeps case (for data that holds both spellings
     * under a unique index). `case_insensitive` is the older spelling.
     */
    case_sensitive: z.boolean().default(false),
    case_insensitive: z.boolean().optional(),
  }),
  create(params, context) {
    const foldCase = params.case_insensitive ?? !params.case_sensitive;
    return (value) => mapTextLeaves(value, (text) => (text === '' ? text : pseudonymousEmail(context, foldCase ? text.toLowerCase() : text)));
  },
});

/** The pseudonym of one address; free-text scrubbing uses it too, so an address gets one pseudonym wherever it appears. */
export function pseudonymousEmail(context: TransformContext, address: string): string {
  return `user-${hexPrefix(context.mac('hash_email', address), 20)}@${ANONYMIZED_EMAIL_DOMAIN}`;
}
