/**
 * CRC-32 (the gzip trailer's, ISO-HDLC: reflected polynomial 0xEDB88320) in
 * JavaScript: Node 20's zlib offers none. `crc32` runs once per compressed
 * chunk; `crc32Combine` appends a chunk's CRC to a stream's running CRC
 * without reading its bytes again, in 32 steps (zlib's `crc32_combine_op`):
 * what one recipient pays per write of a shared compressed chunk.
 */

const POLYNOMIAL = 0xedb88320;

const TABLE = new Int32Array(256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLYNOMIAL : c >>> 1;
  TABLE[n] = c;
}

/** The CRC-32 of `bytes`, continuing from `crc` (0 for a fresh start). */
export function crc32(bytes: Uint8Array, crc = 0): number {
  let c = ~crc;
  for (let i = 0; i < bytes.length; i++) c = TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

/** a(x) · b(x) modulo the CRC polynomial (reflected bit order), as zlib's `multmodp`. */
function multiplyModP(a: number, b: number): number {
  let m = 0x80000000;
  let p = 0;
  for (;;) {
    if (a & m) {
      p ^= b;
      if ((a & (m - 1)) === 0) break;
    }
    m >>>= 1;
    b = b & 1 ? (b >>> 1) ^ POLYNOMIAL : b >>> 1;
  }
  return p >>> 0;
}

// x^(2^n) modulo the polynomial, n = 0…31 (zlib's `x2n_table`).
const X2N = new Array<number>(32);
X2N[0] = 0x40000000;
for (let n = 1; n < 32; n++) X2N[n] = multiplyModP(X2N[n - 1], X2N[n - 1]);

/**
 * The operator that shifts a CRC past `length` bytes (zlib's
 * `crc32_combine_gen`): computed once per chunk, used by `crc32Combine` for
 * every stream the chunk is appended to.
 */
export function crc32ShiftOf(length: number): number {
  let p = 0x80000000;
  // length bytes are 8 × length bits: x^(8·length) = product of x^(2^k) over the set bits of length, k from 3.
  for (let n = length, k = 3; n > 0; n >>>= 1, k++) if (n & 1) p = multiplyModP(X2N[k & 31], p);
  return p;
}

/**
 * The CRC-32 of A followed by B, from `crcA`, `crcB` and `crc32ShiftOf(B's length)`
 * (zlib's `crc32_combine_op`).
 */
export function crc32Combine(crcA: number, crcB: number, shiftOfB: number): number {
  return (multiplyModP(shiftOfB, crcA) ^ crcB) >>> 0;
}
