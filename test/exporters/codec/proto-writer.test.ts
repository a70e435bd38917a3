import fc from 'fast-check';
import protobuf from 'protobufjs/minimal.js';
import { describe, expect, it } from 'vitest';
import { ProtoWriter } from '../../../src/formats/codec/proto-writer.js';
import {
  WIRE_FIXED32,
  WIRE_FIXED64,
  WIRE_LENGTH,
  WIRE_VARINT,
} from '../../../src/formats/codec/protobuf-wire.js';

const INT64 = { min: -(2n ** 63n), max: 2n ** 63n - 1n };

/** One field of a message, as both writers are told to write it. */
type Field =
  | { kind: 'uint32'; no: number; value: number }
  | { kind: 'int32'; no: number; value: number }
  | { kind: 'int64'; no: number; value: bigint }
  | { kind: 'double'; no: number; value: number }
  | { kind: 'float'; no: number; value: number }
  | { kind: 'string'; no: number; value: string }
  | { kind: 'bytes'; no: number; value: Uint8Array }
  | { kind: 'message'; no: number; value: Field[] };

const fieldNo = fc.integer({ min: 1, max: 2 ** 29 - 1 });
const { field } = fc.letrec<{ field: Field }>((tie) => ({
  field: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.record({
      kind: fc.constant('uint32' as const),
      no: fieldNo,
      value: fc.integer({ min: 0, max: 0xffffffff }),
    }),
    fc.record({
      kind: fc.constant('int32' as const),
      no: fieldNo,
      value: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
    }),
    fc.record({ kind: fc.constant('int64' as const), no: fieldNo, value: fc.bigInt(INT64) }),
    fc.record({ kind: fc.constant('double' as const), no: fieldNo, value: fc.double() }),
    fc.record({ kind: fc.constant('float' as const), no: fieldNo, value: fc.double() }),
    fc.record({
      kind: fc.constant('string' as const),
      no: fieldNo,
      value: fc.string({ unit: 'grapheme', maxLength: 300 }),
    }),
    fc.record({ kind: fc.constant('bytes' as const), no: fieldNo, value: fc.uint8Array({ maxLength: 300 }) }),
    fc.record({
      kind: fc.constant('message' as const),
      no: fieldNo,
      value: fc.array(tie('field'), { maxLength: 5 }),
    }),
  ),
}));

function int64Bits(value: bigint): number {
  const bits = BigInt.asUintN(64, value);
  return {
    low: Number(bits & 0xffffffffn) | 0,
    high: Number(bits >> 32n) | 0,
    unsigned: false,
  } as unknown as number;
}

function ours(writer: ProtoWriter, fields: readonly Field[]): void {
  for (const f of fields) {
    switch (f.kind) {
      case 'uint32':
        writer.tag(f.no, WIRE_VARINT).uint32(f.value);
        break;
      case 'int32':
        writer.tag(f.no, WIRE_VARINT).int32(f.value);
        break;
      case 'int64':
        writer.tag(f.no, WIRE_VARINT).varint64(f.value);
        break;
      case 'double':
        writer.tag(f.no, WIRE_FIXED64).double(f.value);
        break;
      case 'float':
        writer.tag(f.no, WIRE_FIXED32).float(f.value);
        break;
      case 'string':
        writer.tag(f.no, WIRE_LENGTH).string(f.value);
        break;
      case 'bytes':
        writer.tag(f.no, WIRE_LENGTH).bytes(f.value);
        break;
      case 'message':
        writer.tag(f.no, WIRE_LENGTH).begin();
        ours(writer, f.value);
        writer.end();
    }
  }
}

function reference(writer: protobuf.Writer, fields: readonly Field[]): void {
  const key = (no: number, wire: number): protobuf.Writer => writer.uint32(((no << 3) | wire) >>> 0);
  for (const f of fields) {
    switch (f.kind) {
      case 'uint32':
        key(f.no, 0).uint32(f.value);
        break;
      case 'int32':
        key(f.no, 0).int32(f.value);
        break;
      case 'int64':
        key(f.no, 0).int64(int64Bits(f.value));
        break;
      case 'double':
        key(f.no, 1).double(f.value);
        break;
      case 'float':
        key(f.no, 5).float(f.value);
        break;
      case 'string':
        key(f.no, 2).string(f.value);
        break;
      case 'bytes':
        key(f.no, 2).bytes(f.value);
        break;
      case 'message':
        key(f.no, 2).fork();
        reference(writer, f.value);
        writer.ldelim();
    }
  }
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

describe('ProtoWriter', () => {
  it('writes any message, nested to any depth, byte for byte as protobufjs Writer does', () => {
    fc.assert(
      fc.property(fc.array(field, { maxLength: 8 }), (fields) => {
        const writer = new ProtoWriter(8);
        ours(writer, fields);
        const expected = protobuf.Writer.create();
        reference(expected, fields);
        expect(hex(writer.finish())).toBe(hex(expected.finish()));
      }),
    );
  });

  it('writes the same bytes again after reset, growing from a one-byte buffer', () => {
    fc.assert(
      fc.property(fc.array(field, { maxLength: 6 }), (fields) => {
        const writer = new ProtoWriter(1);
        ours(writer, fields);
        const first = hex(writer.finish());
        ours(writer.reset(), fields);
        expect(hex(writer.finish())).toBe(first);
      }),
    );
  });

  it('shortens a nested length prefix across every varint size boundary', () => {
    for (const size of [0, 127, 128, 16_383, 16_384, 2_097_151, 2_097_152]) {
      const writer = new ProtoWriter(4);
      writer.tag(1, WIRE_LENGTH).begin().bytes(new Uint8Array(size)).end();
      const expected = protobuf.Writer.create().uint32(10).fork().bytes(new Uint8Array(size)).ldelim();
      expect(writer.finish().equals(Buffer.from(expected.finish()))).toBe(true);
    }
  });

  it('writes ASCII and non-ASCII strings alike on both sides of its 128-unit short-string path', () => {
    for (const length of [0, 1, 63, 64, 127, 128, 129, 300]) {
      for (const text of [
        'a'.repeat(length),
        'a'.repeat(Math.max(0, length - 1)) + 'é',
        'é' + 'a'.repeat(length),
      ]) {
        const writer = new ProtoWriter(2).string(text);
        expect(hex(writer.finish()), text).toBe(hex(protobuf.Writer.create().string(text).finish()));
      }
    }
  });

  it('writes a lone surrogate as U+FFFD, so every string it writes is valid UTF-8', () => {
    const writer = new ProtoWriter();
    writer.string('a\ud800b');
    expect(hex(writer.finish())).toBe(hex(Buffer.from([5, 0x61, 0xef, 0xbf, 0xbd, 0x62])));
  });

  it('refuses end() without begin() and finish() inside an open message', () => {
    expect(() => new ProtoWriter().end()).toThrow('ProtoWriter.end() without begin()');
    expect(() => new ProtoWriter().begin().finish()).toThrow('with 1 open begin()');
  });

  it('writes U+0080 and U+07FF, the first non-ASCII code points, as two UTF-8 bytes each', () => {
    // By hand: U+0080 is C2 80, U+07FF is DF BF, U+0800 is E0 A0 80.
    const writer = new ProtoWriter().string('a\u0080').string('\u07ff\u0800');
    expect(hex(writer.finish())).toBe('0361c280' + '05dfbfe0a080');
  });

  it('reports as its length the bytes written so far, across growth and nested messages', () => {
    const writer = new ProtoWriter(1);
    expect(writer.length).toBe(0);
    writer.tag(1, WIRE_VARINT).varint64(-1n);
    expect(writer.length).toBe(11);
    writer.tag(2, WIRE_LENGTH).begin().tag(1, WIRE_LENGTH).string('x'.repeat(200)).end();
    // Inside: key, 2-byte length 200, 200 bytes = 203; outside: key, 2-byte length 203, then those.
    expect(writer.length).toBe(11 + 1 + 2 + 203);
    expect(writer.length).toBe(writer.finish().length);
  });
});
