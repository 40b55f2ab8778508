import { describe, expect, it } from 'vitest';
import { Crc64, crc64, crc64Update } from '../../../runtime/archive/crc64.js';

// Expected values printed by Go: crc64.Checksum / crc64.Update with crc64.MakeTable(crc64.ECMA).
const patterned = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7 + 3) & 0xff);

describe('crc64 (Go hash/crc64, ECMA table)', () => {
  it('matches Go for known inputs', () => {
    expect(crc64(Buffer.from('123456789'))).toBe(0x995dc9bbdf1939fan);
    expect(crc64(Buffer.alloc(0))).toBe(0n);
    expect(crc64(Buffer.from('The quick brown fox jumps over the lazy dog'))).toBe(0x5b5eb8c2e54aa1c4n);
    expect(crc64(patterned)).toBe(0xf033761aeb8e0b26n);
  });

  it('continues from a previous checksum like Go crc64.Update', () => {
    expect(crc64Update(0x1234n, Buffer.from('abc'))).toBe(0xb4a874b1bfc54894n);
    expect(crc64Update(crc64(Buffer.from('12345')), Buffer.from('6789'))).toBe(0x995dc9bbdf1939fan);
  });

  it('gives the same digest however the input is split', () => {
    for (const step of [1, 3, 7, 8, 9, 64, 999]) {
      const crc = new Crc64();
      for (let i = 0; i < patterned.length; i += step) crc.update(patterned.subarray(i, i + step));
      expect(crc.digest(), `step ${step}`).toBe(0xf033761aeb8e0b26n);
    }
  });

  it('honours start/end offsets without copying', () => {
    const padded = new Uint8Array(patterned.length + 10);
    padded.set(patterned, 5);
    expect(new Crc64().update(padded, 5, 5 + patterned.length).digest()).toBe(0xf033761aeb8e0b26n);
  });
});
