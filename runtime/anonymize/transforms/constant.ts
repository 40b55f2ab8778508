import { z } from 'zod';
import { defineTransform } from './types.js';

export const constant = defineTransform({
  name: 'constant',
  summary: 'replace the value with the given constant (string, number, boolean or null)',
  params: z.strictObject({ value: z.union([z.string(), z.number(), z.boolean(), z.null()]) }),
  wholeValue: true,
  create(params) {
    return () => params.value;
  },
});
