import fc from 'fast-check';
import protobuf from 'protobufjs/minimal.js';
import { describe, expect, it } from 'vitest';
import { ProtoDecodeError, ProtoReader } from '../../../src/formats/codec/proto-reader.js';
import {
  WIRE_FIXED32,
  WIRE_FIXED64,
  WIRE_LENGTH,
  WIRE_VARINT,
} from '../../../src/formats/codec/protobuf-wire.js';

const INT64 = { min: -(2n ** 63n), max: 2n ** 63n - 1n };

function int64Bits(value: bigint): number {
  const bits = BigInt.asUintN(64, value);
  return {
    low: Number(bits & 0xffffffffn) | 0,
    high: Number(bits >> 32n) | 0,
    unsigned: false,
  } as unknown as number;
}

/** What a reader returns for an int64: a number when it is a safe integer, else a bigint. */
const asRead = (value: bigint): number | bigint =>
  Number.isSafeInteger(Number(value)) ? Number(value) : value;

const message = fc.record({
  no: fc.integer({ min: 1, max: 2 ** 29 - 1 }),
  int32: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  int64: fc.bigInt(INT64),
  uint64: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
  double: fc.double(),
  float: fc.float(),
  text: fc.string({ unit: 'grapheme', maxLength: 60 }),
  nested: fc.uint8Array({ maxLength: 40 }),
});

describe('ProtoReader', () => {
  it('reads back every field type protobufjs Writer writes, with keys, int64 signs and nested ranges', () => {
    fc.assert(
      fc.property(message, (m) => {
        const key = (wire: number): number => ((m.no << 3) | wire) >>> 0;
        const bytes = protobuf.Writer.create()
          .uint32(key(0))
          .int32(m.int32)
          .uint32(key(0))
          .int64(int64Bits(m.int64))
          .uint32(key(0))
          .uint64(int64Bits(m.uint64))
          .uint32(key(1))
          .double(m.double)
          .uint32(key(5))
          .float(m.float)
          .uint32(key(2))
          .string(m.text)
          .uint32(key(2))
          .fork()
          .uint32(8)
          .uint32(7)
          .bytes(m.nested)
          .ldelim()
          .finish();
        const reader = new ProtoReader(bytes);
        const next = (wire: number): void => expect(reader.key()).toMatchObject({ field: m.no, wire });
        next(WIRE_VARINT);
        expect(reader.int32()).toBe(m.int32);
        next(WIRE_VARINT);
        expect(reader.int64()).toBe(asRead(m.int64));
        next(WIRE_VARINT);
        expect(reader.varint()).toBe(asRead(m.uint64));
        next(WIRE_FIXED64);
        expect(Object.is(reader.double(), m.double)).toBe(true);
        next(WIRE_FIXED32);
        expect(Object.is(reader.float(), m.float)).toBe(true);
        next(WIRE_LENGTH);
        expect(reader.string()).toBe(m.text);
        next(WIRE_LENGTH);
        const start = reader.offset;
        const nested = reader.message();
        expect(nested.offset).toBeGreaterThan(start);
        expect(nested.key()).toEqual({ field: 1, wire: WIRE_VARINT, offset: nested.offset - 1 });
        expect(nested.uint32()).toBe(7);
        expect(Buffer.from(nested.lengthDelimited()).equals(Buffer.from(m.nested))).toBe(true);
        expect(nested.done && reader.done).toBe(true);
      }),
    );
  });

  it('reads strings as Node decodes UTF-8 on both sides of its 64-byte ASCII path, malformed bytes as U+FFFD', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 130 }),
          fc.string({ unit: 'binary-ascii', maxLength: 130 }).map((t) => Buffer.from(t)),
        ),
        (bytes) => {
          const reader = new ProtoReader(protobuf.Writer.create().bytes(bytes).finish());
          expect(reader.string()).toBe(Buffer.from(bytes).toString('utf8'));
        },
      ),
    );
  });

  it('skips a field of every wire type protobufjs writes, landing on the next key', () => {
    const bytes = protobuf.Writer.create()
      .uint32(8)
      .uint64(int64Bits(2n ** 64n - 1n))
      .uint32(17)
      .double(1)
      .uint32(26)
      .string('skip me')
      .uint32(37)
      .float(1)
      .uint32(48)
      .uint32(42)
      .finish();
    const reader = new ProtoReader(bytes);
    for (const wire of [WIRE_VARINT, WIRE_FIXED64, WIRE_LENGTH, WIRE_FIXED32]) {
      const key = reader.key();
      expect(key.wire).toBe(wire);
      reader.skip(key.wire);
    }
    expect(reader.key()).toMatchObject({ field: 6, wire: WIRE_VARINT });
    expect(reader.uint32()).toBe(42);
  });

  it('names the offset of malformed bytes relative to the outermost message, also inside nested ones', () => {
    const cases: Array<[string, (reader: ProtoReader) => unknown, string, number]> = [
      ['', (r) => r.varint(), 'varint runs past the end', 0],
      ['ffffffffffffffffffff01', (r) => r.varint(), 'varint longer than 10 bytes', 10],
      ['ffffffff1f', (r) => r.uint32(), 'uint32 out of range (8589934591)', 0],
      ['00', (r) => r.key(), 'field number 0', 0],
      ['0f', (r) => r.skip(r.key().wire), 'unsupported wire type 7', 1],
      ['0801', (r) => r.expectWire(r.key(), WIRE_FIXED64), 'field 1 has wire type 0, expected 1', 0],
      ['0a05aabb', (r) => (r.key(), r.lengthDelimited()), 'field of 5 bytes runs past the end', 2],
      ['0a03aabb', (r) => (r.key(), r.message()), 'field of 3 bytes runs past the end', 2],
    ];
    for (const [bytes, read, message, offset] of cases) {
      let caught: unknown;
      try {
        read(new ProtoReader(Buffer.from(bytes, 'hex')));
      } catch (error) {
        caught = error;
      }
      expect(caught, bytes).toBeInstanceOf(ProtoDecodeError);
      expect((caught as ProtoDecodeError).message, bytes).toBe(`${message} at offset ${offset}`);
      expect((caught as ProtoDecodeError).offset, bytes).toBe(offset);
    }
  });

  it('reports offsets inside a nested message from the start of the outermost bytes', () => {
    const reader = new ProtoReader(Buffer.from('0a0109', 'hex'));
    reader.key();
    const nested = reader.message();
    expect(nested.key()).toEqual({ field: 1, wire: WIRE_FIXED64, offset: 2 });
    expect(() => nested.double()).toThrow(new ProtoDecodeError('field of 8 bytes runs past the end', 3));
  });

  it('reads 0xffffffff as the largest uint32 and refuses 2^32, as a value and as a field key', () => {
    expect(new ProtoReader(Buffer.from('ffffffff0f', 'hex')).uint32()).toBe(0xffffffff);
    expect(() => new ProtoReader(Buffer.from('8080808010', 'hex')).uint32()).toThrow(
      new ProtoDecodeError('uint32 out of range (4294967296)', 0),
    );
    // Key 0xffffffff is field 2^29 - 1 with wire type 7: a key, whose wire type skip() refuses.
    const reader = new ProtoReader(Buffer.from('ffffffff0f', 'hex'));
    const key = reader.key();
    expect(key).toEqual({ field: 2 ** 29 - 1, wire: 7, offset: 0 });
    expect(() => reader.skip(key.wire)).toThrow(new ProtoDecodeError('unsupported wire type 7', 5));
    // 2^32 as a number, and 2^63 as a bigint: neither is a key.
    for (const bytes of ['8080808010', '80808080808080808001']) {
      expect(() => new ProtoReader(Buffer.from(bytes, 'hex')).key(), bytes).toThrow(
        new ProtoDecodeError('bad field key', 0),
      );
    }
  });

  it('stops a varint at the end of a nested message even when the outer bytes go on', () => {
    // Outer: field 1, 1 byte long, holding key 0x08 (field 1, varint); the byte after (0x05) is outside it.
    const reader = new ProtoReader(Buffer.from('0a010805', 'hex'));
    reader.key();
    const nested = reader.message();
    expect(nested.key()).toEqual({ field: 1, wire: WIRE_VARINT, offset: 2 });
    expect(() => nested.varint()).toThrow(new ProtoDecodeError('varint runs past the end', 3));
  });

  it('returns varints up to 2^53 - 1 as numbers and above as bigints, across the 8-byte boundary at 2^49', () => {
    // By hand: 2^49 is seven 0x80 bytes then 0x01; 2^53 - 1 is seven 0xff bytes then 0x0f; 2^53 is seven 0x80 then 0x10.
    const cases: Array<[string, number | bigint]> = [
      ['ffffffffffff7f', 2 ** 49 - 1],
      ['8080808080808001', 2 ** 49],
      ['ffffffffffffff0f', Number.MAX_SAFE_INTEGER],
      ['8080808080808010', 2n ** 53n],
    ];
    for (const [bytes, value] of cases) {
      expect(new ProtoReader(Buffer.from(bytes, 'hex')).varint(), bytes).toBe(value);
    }
  });

  it('reads the int64s -(2^53 - 1) as a number and -2^53 as a bigint, the edge of safe integers', () => {
    for (const value of [-(2n ** 53n - 1n), -(2n ** 53n), 2n ** 63n - 1n, -(2n ** 63n)]) {
      const bytes = protobuf.Writer.create().int64(int64Bits(value)).finish();
      expect(bytes, String(value)).toHaveLength(value < 0n ? 10 : 9);
      expect(new ProtoReader(bytes).int64(), String(value)).toBe(asRead(value));
    }
    expect(asRead(-(2n ** 53n - 1n))).toBe(-9007199254740991);
  });

  it('refuses a length prefix beyond 2^53 as too large, with a ProtoDecodeError at the prefix', () => {
    // Key 0x0a, then 2^60 (eight 0x80 bytes, then 0x10).
    const reader = new ProtoReader(Buffer.from('0a' + '8080808080808080' + '10', 'hex'));
    reader.key();
    expect(() => reader.lengthDelimited()).toThrow(new ProtoDecodeError('length too large', 1));
  });

  it('decodes the byte 0x80, a lone continuation byte, as U+FFFD, and 0x7f as itself', () => {
    const reader = new ProtoReader(Buffer.from('03618062' + '017f', 'hex'));
    expect(reader.string()).toBe('a\ufffdb');
    expect(reader.string()).toBe('\x7f');
  });
});
