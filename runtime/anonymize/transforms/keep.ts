import { z } from 'zod';
import { defineTransform } from './types.js';

/** Publishing a value as it is must be a recorded decision, so a reason is required. */
export const keep = defineTransform({
  name: 'keep',
  summary: 'keep the value unchanged; requires a reason (accepted by `rules check` as a deliberate decision)',
  params: z.strictObject({ reason: z.string().trim().min(3, 'say why this value may be published as it is') }),
  keepsValue: true,
  create() {
    return (value) => value;
  },
});
