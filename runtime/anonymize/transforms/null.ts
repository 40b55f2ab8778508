import { z } from 'zod';
import { defineTransform } from './types.js';

export const nullify = defineTransform({
  name: 'null',
  summary: 'replace the value with null (the field stays, so required-field checks still pass)',
  params: z.strictObject({}),
  wholeValue: true,
  create() {
    return () => null;
  },
});
