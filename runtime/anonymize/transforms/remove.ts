import { z } from 'zod';
import { REMOVE, defineTransform } from './types.js';

export const remove = defineTransform({
  name: 'remove',
  summary: 'delete the field (or drop the array element)',
  params: z.strictObject({}),
  wholeValue: true,
  create() {
    return () => REMOVE;
  },
});
