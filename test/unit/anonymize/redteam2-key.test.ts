/**
 * Red team 2, F15: a random part must not hide a constant one. Each part of
 * the key is checked, and real random keys are (almost) never refused.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { keyWeakness } from '../../../runtime/anonymize/key.js';

describe('F15: key parts', () => {
  it('refuses keys with fewer than 256 random bits behind a random prefix', () => {
    const weak = {
      '24 random bytes + 8 zero bytes (base64)': Buffer.concat([randomBytes(24), Buffer.alloc(8)]).toString('base64'),
      '20 random bytes + 00 01 02 … 0b (hex)': randomBytes(20).toString('hex') + Buffer.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]).toString('hex'),
      'two UUIDs (244 bits)': randomUUID() + randomUUID(),
      '16 random + 16 x 0xff (base64)': Buffer.concat([randomBytes(16), Buffer.alloc(16, 0xff)]).toString('base64'),
    };
    for (const [name, key] of Object.entries(weak)) {
      const why = keyWeakness(key);
      expect(why, name).not.toBeNull();
      expect(why).not.toContain(key.slice(-8));
    }
  });

  it('accepts 2,000 fresh openssl-style keys of 48 bytes with at most 10 refusals (the text-likeness checks refuse about 0.07%)', () => {
    let refused = 0;
    for (let i = 0; i < 2000; i++) if (keyWeakness(randomBytes(48).toString('base64'))) refused++;
    expect(refused).toBeLessThanOrEqual(10);
  });
});
