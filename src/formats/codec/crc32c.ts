/**
 * CRC-32C (Castagnoli) and TFRecord's masking of it. The checksum comes from @node-rs/crc32
 * (hardware-accelerated where the CPU has SSE4.2); Node's zlib.crc32 is the IEEE polynomial and
 * would be wrong here.
 */
import { crc32c as nativeCrc32c } from '@node-rs/crc32';

const MASK_DELTA = 0xa282ead8;

export function crc32c(bytes: Uint8Array): number {
  return nativeCrc32c(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)) >>> 0;
}

/** TFRecord stores CRCs rotated right by 15 and offset, so CRCs of CRCs do not degenerate. */
export function maskCrc(crc: number): number {
  return (((crc >>> 15) | (crc << 17)) + MASK_DELTA) >>> 0;
}

/** Inverse of maskCrc, for tools that report the raw CRC a record should have had. */
export function unmaskCrc(masked: number): number {
  const rotated = (masked - MASK_DELTA) >>> 0;
  return ((rotated << 15) | (rotated >>> 17)) >>> 0;
}

export function maskedCrc32c(bytes: Uint8Array): number {
  return maskCrc(crc32c(bytes));
}

/** Reflected Castagnoli polynomial, for the table below. */
const POLY = 0x82f63b78;
const TABLE = Int32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
  return c;
});
/** Below this many bytes a table loop beats the native call and the view it needs (a reader's hot path). */
const SHORT = 128;

/** The masked CRC-32C of `bytes[start, end)`, without a view for short ranges. */
export function maskedCrc32cRange(bytes: Uint8Array, start: number, end: number): number {
  if (end - start >= SHORT) return maskCrc(crc32c(bytes.subarray(start, end)));
  let crc = -1;
  for (let i = start; i < end; i++)
    crc = (crc >>> 8) ^ (TABLE[(crc ^ (bytes[i] as number)) & 0xff] as number);
  return maskCrc((crc ^ -1) >>> 0);
}
