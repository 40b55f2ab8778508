import { z } from 'zod';
import { defineTransform } from './types.js';
import { MIN_UNIQUE_DIGITS, UNIQUE_DIGITS_MESSAGE, decimalDigits, mapTextLeaves } from './values.js';

/** Like `sequential` but only the number by default ("Smith" → "482133910123456"); pairs with a `sequential` first name. */
export const sequentialSuffix = defineTransform({
  name: 'sequential_suffix',
  summary: 'number derived from the keyed HMAC, with an optional prefix (default 15 digits)',
  params: z.strictObject({
    prefix: z.string().default(''),
    digits: z.number().int().min(MIN_UNIQUE_DIGITS, UNIQUE_DIGITS_MESSAGE).max(18).default(MIN_UNIQUE_DIGITS),
  }),
  create(params, context) {
    return (value) =>
      mapTextLeaves(value, (text) => (text === '' ? text : params.prefix + decimalDigits(context.mac('sequential_suffix', text), params.digits)));
  },
});
