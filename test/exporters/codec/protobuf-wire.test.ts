import fc from 'fast-check';
import protobuf from 'protobufjs/minimal.js';
import { describe, expect, it } from 'vitest';
import {
  int64VarintLength,
  varint32Length,
  writeInt64Varint,
  writeVarint32,
} from '../../../src/formats/codec/protobuf-wire.js';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** protobufjs's own encoding of an int64, the reference our hand-written varints must match. */
function referenceInt64(value: bigint): Buffer {
  const bits = BigInt.asUintN(64, value);
  const long = { low: Number(bits & 0xffffffffn) | 0, high: Number(bits >> 32n) | 0, unsigned: false };
  return Buffer.from(
    protobuf.Writer.create()
      .int64(long as unknown as number)
      .finish(),
  );
}

function ours(value: number | bigint): Buffer {
  const out = Buffer.alloc(16);
  const end = writeInt64Varint(out, 0, value);
  expect(end).toBe(int64VarintLength(value));
  return out.subarray(0, end);
}

describe('protobuf varints', () => {
  it('writes every uint32 as protobufjs does, in the length it announces', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (value) => {
        const out = Buffer.alloc(8);
        const end = writeVarint32(out, 0, value);
        expect(end).toBe(varint32Length(value));
        expect(out.subarray(0, end)).toEqual(Buffer.from(protobuf.Writer.create().uint32(value).finish()));
      }),
    );
  });

  it('writes every int64 as protobufjs does, whether given as a bigint or a safe-integer number', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: INT64_MIN, max: INT64_MAX }), (value) => {
        expect(ours(value)).toEqual(referenceInt64(value));
        const asNumber = Number(value);
        if (Number.isSafeInteger(asNumber)) expect(ours(asNumber)).toEqual(referenceInt64(value));
      }),
    );
  });

  it('writes the int64 edges exactly: 2^31-1, 2^32, 2^53+1, 2^63-1 and negatives as 10 bytes', () => {
    for (const value of [
      0n,
      1n,
      127n,
      128n,
      2n ** 31n - 1n,
      2n ** 32n,
      2n ** 35n,
      2n ** 53n + 1n,
      INT64_MAX,
    ]) {
      expect(ours(value)).toEqual(referenceInt64(value));
    }
    expect(ours(INT64_MAX)).toEqual(Buffer.from('ffffffffffffffff7f', 'hex'));
    expect(ours(-1)).toEqual(Buffer.from('ffffffffffffffffff01', 'hex'));
    expect(ours(INT64_MIN)).toEqual(Buffer.from('80808080808080808001', 'hex'));
  });

  it('takes one more byte at every 7-bit boundary: 2^7k - 1 in k bytes, 2^7k in k + 1', () => {
    for (let k = 1; k <= 9; k++) {
      // By hand: 2^7k - 1 is k-1 bytes 0xff then 0x7f; 2^7k is k bytes 0x80 then 0x01.
      const below = Buffer.from([...Array<number>(k - 1).fill(0xff), 0x7f]);
      const at = Buffer.from([...Array<number>(k).fill(0x80), 0x01]);
      const edge = 2n ** BigInt(7 * k);
      expect(ours(edge - 1n), `2^${7 * k} - 1`).toEqual(below);
      expect(ours(edge), `2^${7 * k}`).toEqual(at);
      if (edge <= BigInt(Number.MAX_SAFE_INTEGER)) {
        expect(ours(Number(edge - 1n))).toEqual(below);
        expect(ours(Number(edge))).toEqual(at);
      }
      if (k <= 4) {
        expect(varint32Length(Number(edge) - 1)).toBe(k);
        expect(varint32Length(Number(edge))).toBe(k + 1);
        const out = Buffer.alloc(8);
        expect(out.subarray(0, writeVarint32(out, 0, Number(edge)))).toEqual(at);
      }
    }
    expect(varint32Length(2 ** 32 - 1)).toBe(5);
  });
});
