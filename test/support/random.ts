/**
 * The one seeded random generator of tests, bench and fixtures, and the
 * SyRF-shaped values built from it. Same seed, same sequence, on every
 * machine: committed fixtures and failing fuzz cases reproduce from a seed.
 */
import { Binary, ObjectId } from 'bson';

export type Random = () => number;

/** mulberry32: tiny, fast and good enough for reproducible test data (not for anything secret). */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function pick<T>(random: Random, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

/** C#'s legacy GUID encoding (BSON binary subtype 3), as the SyRF app stores ids. */
export function csuuid(random: Random): Binary {
  const bytes = Buffer.alloc(16);
  for (let i = 0; i < 16; i++) bytes[i] = Math.floor(random() * 256);
  return new Binary(bytes, Binary.SUBTYPE_UUID_OLD);
}

/** An ObjectId whose 12 bytes are the number `n`: distinct, sortable, no clock involved. */
export function objectIdOf(n: number): ObjectId {
  return new ObjectId(Buffer.from(n.toString(16).padStart(24, '0'), 'hex'));
}

/** An ObjectId created at `time` (ms) with random remaining bytes, like a server-made one. */
export function objectIdAt(random: Random, time: number): ObjectId {
  const bytes = Buffer.alloc(12);
  bytes.writeUInt32BE(Math.floor(time / 1000), 0);
  for (let i = 4; i < 12; i++) bytes[i] = Math.floor(random() * 256);
  return new ObjectId(bytes);
}
