/**
 * Protobuf wire-format primitives shared by ProtoWriter, ProtoReader and the hand-written hot-path
 * encoders (TensorBoard scalar records, W&B history records): wire types, base-128 varints for
 * lengths (uint32) and for int64 fields (two's complement, so a negative int64 takes 10 bytes).
 * Each writer returns the position after what it wrote; sizes are computed first so a record can
 * be encoded into one exactly sized buffer.
 */

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LENGTH = 2;
export const WIRE_FIXED32 = 5;

const TWO_POW_32 = 2 ** 32;

/** Bytes a uint32 takes as a varint. */
export function varint32Length(value: number): number {
  if (value < 0x80) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x200000) return 3;
  if (value < 0x10000000) return 4;
  return 5;
}

export function writeVarint32(out: Uint8Array, pos: number, value: number): number {
  let rest = value >>> 0;
  while (rest >= 0x80) {
    out[pos++] = (rest & 0x7f) | 0x80;
    rest >>>= 7;
  }
  out[pos++] = rest;
  return pos;
}

/** An int64 field value as the unsigned 64-bit integer protobuf encodes (two's complement). */
function uint64Of(value: number | bigint): number | bigint {
  if (typeof value === 'number' && value >= 0 && Number.isSafeInteger(value)) return value;
  const big = BigInt.asUintN(64, BigInt(value));
  return big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
}

/** Bytes an int64 (a safe integer, or any bigint in int64 range) takes as a varint. */
export function int64VarintLength(value: number | bigint): number {
  const unsigned = uint64Of(value);
  if (typeof unsigned === 'number') {
    if (unsigned < TWO_POW_32) return varint32Length(unsigned);
    // 2^32 ≤ n < 2^53: 5 to 8 bytes.
    let length = 5;
    for (let rest = Math.floor(unsigned / 2 ** 35); rest > 0; rest = Math.floor(rest / 128)) length++;
    return length;
  }
  let length = 1;
  for (let rest = unsigned >> 7n; rest > 0n; rest >>= 7n) length++;
  return length;
}

export function writeInt64Varint(out: Uint8Array, pos: number, value: number | bigint): number {
  const unsigned = uint64Of(value);
  if (typeof unsigned === 'number') {
    if (unsigned < TWO_POW_32) return writeVarint32(out, pos, unsigned);
    let rest = unsigned;
    while (rest >= 0x80) {
      out[pos++] = (rest % 0x80) | 0x80;
      rest = Math.floor(rest / 0x80);
    }
    out[pos++] = rest;
    return pos;
  }
  let rest = unsigned;
  while (rest >= 0x80n) {
    out[pos++] = Number(rest & 0x7fn) | 0x80;
    rest >>= 7n;
  }
  out[pos++] = Number(rest);
  return pos;
}
