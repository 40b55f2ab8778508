import { z } from 'zod';
import { defineTransform } from './types.js';
import { hexPrefix, mapTextLeaves } from './values.js';

/** Default 128 bits: collisions are out of reach, so unique indexes (Auth0Id) survive. */
export const hash = defineTransform({
  name: 'hash',
  summary: 'keyed pseudonym: prefix + hex of HMAC-SHA256 (default 32 hex = 128 bits)',
  params: z.strictObject({
    length: z.number().int().min(16).max(64).default(32),
    prefix: z.string().default(''),
  }),
  create(params, context) {
    return (value) => mapTextLeaves(value, (text) => (text === '' ? text : params.prefix + hexPrefix(context.mac('hash', text), params.length)));
  },
});
