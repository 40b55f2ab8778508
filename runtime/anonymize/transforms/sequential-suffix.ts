import { z } from 'zod';
import { defineTransform } from './types.js';
import { decimalDigits, mapTextLeaves } from './values.js';

/** Like `sequential` but only the number by default ("Smith" → "48213391"); pairs with a `sequential` first name. */
export const sequentialSuffix = defineTransform({
  name: 'sequential_suffix',
  summary: 'number derived from the keyed HMAC, with an optional prefix (default "48213391")',
  params: z.strictObject({
    prefix: z.string().default(''),
    digits: z.number().int().min(4).max(18).default(8),
  }),
  create(params, context) {
    return (value) =>
      mapTextLeaves(value, (text) => (text === '' ? text : params.prefix + decimalDigits(context.mac('sequential_suffix', text), params.digits)));
  },
});
