import { z } from 'zod';
import { defineTransform } from './types.js';
import { decimalDigits, mapTextLeaves } from './values.js';

/**
 * Readable labels such as "User 48213391". The number comes from the HMAC of
 * the value, not from a counter, so it does not depend on document order or
 * on which collections a run sees. Different values can share a number
 * (probability about n²/(2·9·10^(digits-1)) for n distinct values); that is
 * harmless for names, which are not unique anyway. Use `hash` for fields
 * that must stay unique.
 */
export const sequential = defineTransform({
  name: 'sequential',
  summary: 'readable label prefix + number derived from the keyed HMAC (default "User 48213391")',
  params: z.strictObject({
    prefix: z.string().default('User '),
    digits: z.number().int().min(4).max(18).default(8),
  }),
  create(params, context) {
    return (value) => mapTextLeaves(value, (text) => (text === '' ? text : params.prefix + decimalDigits(context.mac('sequential', text), params.digits)));
  },
});
