/**
 * CRC-64 as Go's `hash/crc64` computes it with `crc64.MakeTable(crc64.ECMA)`:
 * the reflected ECMA-182 polynomial, state inverted before and after each
 * update. mongodump stores this checksum of every namespace's documents in
 * the archive's EOF headers, so ours must match it bit for bit.
 *
 * Every document passes through here, so the 64-bit state is kept as two
 * unsigned 32-bit halves and updated eight bytes at a time ("slicing by 8");
 * BigInt appears only at the API boundary.
 */

/** Go's crc64.ECMA in reflected form, split into 32-bit halves. */
const POLY_HI = 0xc96c5795;
const POLY_LO = 0xd7870f42;

const SLICES = 8;
/** TABLE_LO[s * 256 + b] / TABLE_HI[...]: the halves of slice table s at byte b. */
const TABLE_LO = new Uint32Array(SLICES * 256);
const TABLE_HI = new Uint32Array(SLICES * 256);

function buildTables(): void {
  for (let b = 0; b < 256; b++) {
    let lo = b;
    let hi = 0;
    for (let bit = 0; bit < 8; bit++) {
      const carry = lo & 1;
      lo = ((lo >>> 1) | ((hi & 1) << 31)) >>> 0;
      hi = hi >>> 1;
      if (carry) {
        lo = (lo ^ POLY_LO) >>> 0;
        hi = (hi ^ POLY_HI) >>> 0;
      }
    }
    TABLE_LO[b] = lo;
    TABLE_HI[b] = hi;
  }
  // Slice s advances a byte through s further zero bytes: T[s][b] = T[0][T[s-1][b] & 0xff] ^ (T[s-1][b] >> 8).
  for (let s = 1; s < SLICES; s++) {
    for (let b = 0; b < 256; b++) {
      const prevLo = TABLE_LO[(s - 1) * 256 + b]!;
      const prevHi = TABLE_HI[(s - 1) * 256 + b]!;
      const idx = prevLo & 0xff;
      TABLE_LO[s * 256 + b] = (TABLE_LO[idx]! ^ ((prevLo >>> 8) | (prevHi << 24))) >>> 0;
      TABLE_HI[s * 256 + b] = (TABLE_HI[idx]! ^ (prevHi >>> 8)) >>> 0;
    }
  }
}
buildTables();

const MASK64 = (1n << 64n) - 1n;

/**
 * An incremental CRC-64/ECMA (Go flavour). `update` may be called with any
 * split of the input; the digest equals Go's `crc64.Checksum` of the whole.
 */
export class Crc64 {
  // The running state, already inverted as Go's Update does internally.
  private lo: number;
  private hi: number;

  constructor(initial: bigint = 0n) {
    const inverted = ~initial & MASK64;
    this.lo = Number(inverted & 0xffffffffn) >>> 0;
    this.hi = Number(inverted >> 32n) >>> 0;
  }

  update(bytes: Uint8Array, start = 0, end = bytes.length): this {
    let lo = this.lo;
    let hi = this.hi;
    let i = start;
    const fastEnd = end - 8;
    while (i <= fastEnd) {
      lo ^= bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
      hi ^= bytes[i + 4]! | (bytes[i + 5]! << 8) | (bytes[i + 6]! << 16) | (bytes[i + 7]! << 24);
      const a = 7 * 256 + (lo & 0xff);
      const b = 6 * 256 + ((lo >>> 8) & 0xff);
      const c = 5 * 256 + ((lo >>> 16) & 0xff);
      const d = 4 * 256 + (lo >>> 24);
      const e = 3 * 256 + (hi & 0xff);
      const f = 2 * 256 + ((hi >>> 8) & 0xff);
      const g = 256 + ((hi >>> 16) & 0xff);
      const h = hi >>> 24;
      lo =
        TABLE_LO[a]! ^ TABLE_LO[b]! ^ TABLE_LO[c]! ^ TABLE_LO[d]! ^ TABLE_LO[e]! ^ TABLE_LO[f]! ^ TABLE_LO[g]! ^ TABLE_LO[h]!;
      hi =
        TABLE_HI[a]! ^ TABLE_HI[b]! ^ TABLE_HI[c]! ^ TABLE_HI[d]! ^ TABLE_HI[e]! ^ TABLE_HI[f]! ^ TABLE_HI[g]! ^ TABLE_HI[h]!;
      i += 8;
    }
    while (i < end) {
      const idx = (lo ^ bytes[i]!) & 0xff;
      lo = TABLE_LO[idx]! ^ ((lo >>> 8) | (hi << 24));
      hi = TABLE_HI[idx]! ^ (hi >>> 8);
      i++;
    }
    this.lo = lo >>> 0;
    this.hi = hi >>> 0;
    return this;
  }

  /** The checksum of everything passed to `update` so far, as an unsigned 64-bit value. */
  digest(): bigint {
    return ~((BigInt(this.hi >>> 0) << 32n) | BigInt(this.lo >>> 0)) & MASK64;
  }
}

/** Functional form of Go's `crc64.Update(crc, table, p)`. */
export function crc64Update(crc: bigint, bytes: Uint8Array): bigint {
  return new Crc64(crc).update(bytes).digest();
}

/** Go's `crc64.Checksum(p, crc64.MakeTable(crc64.ECMA))`. */
export function crc64(bytes: Uint8Array): bigint {
  return crc64Update(0n, bytes);
}
