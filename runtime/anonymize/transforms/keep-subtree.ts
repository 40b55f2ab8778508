import { z } from 'zod';
import { defineTransform } from './types.js';

/**
 * Publishing a whole subtree, including fields added to it later, is a
 * bigger decision than keeping one value, so it is a transform of its own
 * with its own reason. Strings below it are still scrubbed unless the rule
 * says `scrub: false`.
 */
export const keepSubtree = defineTransform({
  name: 'keep_subtree',
  summary: 'keep the value and every descendant, present or future (strings scrubbed); requires a reason',
  params: z.strictObject({ reason: z.string().trim().min(3, 'say why everything below this path may be published') }),
  keepsValue: true,
  keepsSubtree: true,
  create() {
    return (value) => value;
  },
});
