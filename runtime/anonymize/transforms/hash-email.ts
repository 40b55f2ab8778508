import { z } from 'zod';
import { defineTransform } from './types.js';
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
    /** Map addresses differing only in letter case to one pseudonym (breaks uniqueness if the data holds both). */
    case_insensitive: z.boolean().default(false),
  }),
  create(params, context) {
    return (value) =>
      mapTextLeaves(value, (text) => {
        if (text === '') return text;
        const input = params.case_insensitive ? text.toLowerCase() : text;
        return `user-${hexPrefix(context.mac('hash_email', input), 20)}@${ANONYMIZED_EMAIL_DOMAIN}`;
      });
  },
});
