import { z } from 'zod';
import { defineTransform } from './types.js';

/** The whole value (whatever its type, arrays and subdocuments included) becomes one fixed string. */
export const redact = defineTransform({
  name: 'redact',
  summary: 'replace the whole value with a fixed string (default "[redacted]")',
  params: z.strictObject({ value: z.string().default('[redacted]') }),
  wholeValue: true,
  create(params) {
    return () => params.value;
  },
});
