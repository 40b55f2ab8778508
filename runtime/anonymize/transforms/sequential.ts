import { z } from 'zod';
import { defineTransform } from './types.js';
import { MIN_UNIQUE_DIGITS, UNIQUE_DIGITS_MESSAGE, decimalDigits, mapTextLeaves } from './values.js';

/**
 * Readable labels such as "User 482133910123456". The number comes from the
 * HMAC of the value, not from a counter, so it does not depend on document
 * order or on which collections a run sees. At least 15 digits, so distinct
 * values keep distinct labels (values.ts MIN_UNIQUE_DIGITS).
 */
export const sequential = defineTransform({
  name: 'sequential',
  summary: 'readable label prefix + number derived from the keyed HMAC (default "User " + 15 digits)',
  params: z.strictObject({
    prefix: z.string().default('User '),
    digits: z.number().int().min(MIN_UNIQUE_DIGITS, UNIQUE_DIGITS_MESSAGE).max(18).default(MIN_UNIQUE_DIGITS),
  }),
  create(params, context) {
    return (value) => mapTextLeaves(value, (text) => (text === '' ? text : params.prefix + decimalDigits(context.mac('sequential', text), params.digits)));
  },
});
