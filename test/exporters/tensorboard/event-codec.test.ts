import fc from 'fast-check';
import protobuf from 'protobufjs/minimal.js';
import { describe, expect, it } from 'vitest';
import { ProtoDecodeError } from '../../../src/formats/codec/proto-reader.js';
import { decodeEvent, type DecodedEvent } from '../../../src/formats/tensorboard/event-decoder.js';
import {
  FILE_VERSION,
  encodeFileVersionEvent,
  encodeHistogramEvent,
  encodeScalarsEvent,
  encodeTextEvent,
} from '../../../src/formats/tensorboard/event-encoder.js';
import { PACKED_EVENT, UNPACKED_EVENT, int64, referenceEncode } from '../../helpers/protobufjs-event.js';

const INT64 = { min: -(2n ** 63n), max: 2n ** 63n - 1n };
/** Well-formed Unicode: protobufjs and Node agree on its UTF-8 (not on lone surrogates). */
const text = (maxLength = 40): fc.Arbitrary<string> => fc.string({ unit: 'grapheme', maxLength });
/** Any int64 step, with 0 (as a number and as a bigint) and the edges drawn often, not only by chance. */
const step = fc.oneof(
  fc.constantFrom(0, 0n, -1, 2 ** 53, INT64.min, INT64.max),
  fc.bigInt(INT64),
  fc.integer({ min: -(2 ** 40), max: 2 ** 40 }),
);
const wallTime = fc.double({ noNaN: true });
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

/** The reference Event header: protobufjs writes a present field, so step is left out when 0, as we do. */
const header = (time: number, at: number | bigint): object =>
  BigInt(at) === 0n ? { wall_time: time } : { wall_time: time, step: int64(at) };

describe('Event encoder', () => {
  it('writes the file version Event as protobufjs does', () => {
    fc.assert(
      fc.property(wallTime, (time) => {
        expect(hex(encodeFileVersionEvent(time))).toBe(
          hex(referenceEncode({ wall_time: time, file_version: FILE_VERSION })),
        );
      }),
    );
  });

  it('writes scalar Events byte for byte as protobufjs does, for any int64 step, tags and values', () => {
    fc.assert(
      fc.property(
        wallTime,
        step,
        fc.array(fc.tuple(text(), fc.double()), { maxLength: 12 }),
        (time, at, rows) => {
          const tags = rows.map(([tag]) => tag);
          const values = rows.map(([, value]) => value);
          const reference = referenceEncode({
            ...header(time, at),
            summary: { value: rows.map(([tag, value]) => ({ tag, simple_value: value })) },
          });
          expect(hex(encodeScalarsEvent(time, at, tags, values))).toBe(hex(reference));
        },
      ),
    );
  });

  it('writes histogram Events byte for byte as protobufjs does, with packed bucket limits and counts', () => {
    const buckets = fc.array(fc.tuple(fc.double(), fc.double()), { minLength: 1, maxLength: 40 });
    fc.assert(
      fc.property(
        wallTime,
        step,
        text(),
        fc.array(fc.double(), { minLength: 5, maxLength: 5 }),
        buckets,
        (time, at, tag, stats, pairs) => {
          const [min, max, num, sum, sumSquares] = stats as [number, number, number, number, number];
          const bucketLimit = pairs.map(([limit]) => limit);
          const bucket = pairs.map(([, count]) => count);
          const reference = referenceEncode({
            ...header(time, at),
            summary: {
              value: [
                {
                  tag,
                  histo: { min, max, num, sum, sum_squares: sumSquares, bucket_limit: bucketLimit, bucket },
                },
              ],
            },
          });
          const ours = encodeHistogramEvent(time, at, tag, {
            min,
            max,
            num,
            sum,
            sumSquares,
            bucketLimit,
            bucket,
          });
          expect(hex(ours)).toBe(hex(reference));
        },
      ),
    );
  });

  it('writes text Events byte for byte as protobufjs does: a DT_STRING tensor of shape [1] for the text plugin', () => {
    fc.assert(
      fc.property(wallTime, step, text(), text(400), (time, at, tag, body) => {
        const reference = referenceEncode({
          ...header(time, at),
          summary: {
            value: [
              {
                tag,
                tensor: {
                  dtype: 7,
                  tensor_shape: { dim: [{ size: int64(1) }] },
                  string_val: [Buffer.from(body, 'utf8')],
                },
                metadata: { plugin_data: { plugin_name: 'text' } },
              },
            ],
          },
        });
        expect(hex(encodeTextEvent(time, at, tag, body))).toBe(hex(reference));
      }),
    );
  });

  it('leaves step 0 out of every Event, given as the number 0 or the bigint 0n, as protobufjs does', () => {
    for (const zero of [0, 0n]) {
      const reference = referenceEncode({
        wall_time: 2.5,
        summary: { value: [{ tag: 'loss', simple_value: 1 }] },
      });
      expect(hex(encodeScalarsEvent(2.5, zero, ['loss'], [1]))).toBe(hex(reference));
      const withStep = referenceEncode({
        wall_time: 2.5,
        step: int64(1),
        summary: { value: [{ tag: 'loss', simple_value: 1 }] },
      });
      expect(hex(encodeScalarsEvent(2.5, 1, ['loss'], [1]))).toBe(hex(withStep));
    }
  });

  it('writes a tag holding a lone surrogate as U+FFFD, the same bytes as the hand-encoded scalar records', () => {
    const event = decodeEvent(encodeScalarsEvent(1, 1, ['loss\ud800'], [1]));
    expect(event.values?.[0]?.tag).toBe('loss\ufffd');
  });
});

/** Random Events in protobufjs's message form, with what our decoder should return for each. */
const events = fc
  .record({
    time: wallTime,
    at: step,
    values: fc.array(
      fc.oneof(
        fc.record({ kind: fc.constant('simple' as const), tag: text(), value: fc.float() }),
        fc.record({
          kind: fc.constant('histo' as const),
          tag: text(),
          stats: fc.array(fc.double(), { minLength: 5, maxLength: 5 }),
          limits: fc.array(fc.double(), { minLength: 1, maxLength: 8 }),
          counts: fc.array(fc.double(), { minLength: 1, maxLength: 8 }),
        }),
        fc.record({
          kind: fc.constant('tensor' as const),
          tag: text(),
          dtype: fc.integer({ min: -5, max: 30 }),
          dims: fc.array(fc.integer({ min: 0, max: 2 ** 40 }), { maxLength: 3 }),
          floats: fc.array(fc.float(), { minLength: 1, maxLength: 4 }),
          doubles: fc.array(fc.double(), { minLength: 1, maxLength: 4 }),
          strings: fc.array(text(), { maxLength: 3 }),
          content: fc.uint8Array({ minLength: 1, maxLength: 16 }),
          plugin: text(),
          pluginContent: fc.uint8Array({ minLength: 1, maxLength: 16 }),
          dataClass: fc.integer({ min: 1, max: 3 }),
        }),
      ),
      { maxLength: 6 },
    ),
  })
  .map(({ time, at, values }) => {
    const message = {
      ...header(time, at),
      summary: {
        value: values.map((value) => {
          switch (value.kind) {
            case 'simple':
              return { tag: value.tag, simple_value: value.value };
            case 'histo': {
              const [min, max, num, sum, sumSquares] = value.stats;
              return {
                tag: value.tag,
                histo: {
                  min,
                  max,
                  num,
                  sum,
                  sum_squares: sumSquares,
                  bucket_limit: value.limits,
                  bucket: value.counts,
                },
              };
            }
            case 'tensor':
              return {
                tag: value.tag,
                tensor: {
                  dtype: value.dtype,
                  tensor_shape: { dim: value.dims.map((size) => ({ size: int64(size) })) },
                  tensor_content: value.content,
                  float_val: value.floats,
                  double_val: value.doubles,
                  string_val: value.strings.map((s) => Buffer.from(s, 'utf8')),
                },
                metadata: {
                  plugin_data: { plugin_name: value.plugin, content: value.pluginContent },
                  data_class: value.dataClass,
                },
              };
          }
        }),
      },
    };
    const expected: DecodedEvent = {
      wallTime: time,
      step: BigInt(at),
      values: values.map((value) => {
        switch (value.kind) {
          case 'simple':
            return { tag: value.tag, simpleValue: value.value };
          case 'histo': {
            const [min, max, num, sum, sumSquares] = value.stats as [number, number, number, number, number];
            return {
              tag: value.tag,
              histo: { min, max, num, sum, sumSquares, bucketLimit: value.limits, bucket: value.counts },
            };
          }
          case 'tensor':
            return {
              tag: value.tag,
              tensor: {
                dtype: value.dtype,
                shape: value.dims,
                floatVal: value.floats,
                doubleVal: value.doubles,
                stringVal: value.strings,
                intVal: [],
                tensorContent: Buffer.from(value.content),
              },
              pluginName: value.plugin,
              pluginContent: Buffer.from(value.pluginContent),
              dataClass: value.dataClass,
            };
        }
      }),
    };
    return { message, expected };
  });

describe('Event decoder', () => {
  it('reads every field of protobufjs-encoded Events, repeated numbers packed or not, and any int64 step', () => {
    fc.assert(
      fc.property(events, fc.boolean(), ({ message, expected }, packed) => {
        const bytes = referenceEncode(message, packed ? PACKED_EVENT : UNPACKED_EVENT);
        expect(decodeEvent(bytes)).toEqual(expected);
      }),
    );
  });

  it('skips fields it does not know, at every level, whatever their wire type', () => {
    // Event.source_metadata (10, a message), Value.node_name (7, deprecated string),
    // Value.image (4, a message), an unknown fixed32 (99) and varint (100).
    const unknown = Buffer.from('5202' + '0a00' + 'dd0601000000' + 'a00601', 'hex');
    const known = referenceEncode({
      wall_time: 2,
      step: int64(7),
      summary: { value: [{ tag: 'a', simple_value: 1 }] },
    });
    const value = Buffer.from('0a01613a036e6f64' + '2202' + '0a00' + '150000803f', 'hex');
    const withUnknown = Buffer.concat([
      known.subarray(0, 11),
      unknown,
      Buffer.from([0x2a, value.length + 2, 0x0a, value.length]),
      value,
    ]);
    expect(decodeEvent(withUnknown)).toEqual({
      wallTime: 2,
      step: 7n,
      values: [{ tag: 'a', simpleValue: 1 }],
    });
  });

  it('throws a ProtoDecodeError, never another error, for an Event cut short anywhere', () => {
    fc.assert(
      fc.property(events, ({ message }) => {
        const bytes = referenceEncode(message);
        for (let end = 0; end < bytes.length; end++) {
          try {
            decodeEvent(bytes.subarray(0, end));
          } catch (error) {
            expect(error).toBeInstanceOf(ProtoDecodeError);
            expect((error as ProtoDecodeError).offset).toBeLessThanOrEqual(end);
          }
        }
      }),
      { numRuns: 30 },
    );
  });

  it('rejects a known field written with the wrong wire type, naming the field and its offset', () => {
    // wall_time (1) as a varint instead of a double.
    expect(() => decodeEvent(Uint8Array.from([0x10, 0x01, 0x08, 0x05]))).toThrow(
      new ProtoDecodeError('field 1 has wire type 0, expected 1', 2),
    );
  });

  it('skips unknown fields inside histograms, tensors, shapes, dims, metadata and summaries, and defaults what is absent', () => {
    // Written field by field with protobufjs's raw Writer; each message also holds a field our
    // decoder does not read (TensorFlow's own names where there is one).
    const w = (): protobuf.Writer => protobuf.Writer.create();
    const sub = (key: number, inner: protobuf.Writer): Uint8Array =>
      w().uint32(key).bytes(inner.finish()).finish();
    const raw = (...parts: Uint8Array[]): Uint8Array => Buffer.concat(parts);
    // Dim{size: 3, name: "batch"}, then an unknown varint field 3.
    const dim = w().uint32(0x08).int64(3).uint32(0x12).string('batch').uint32(0x18).uint32(1);
    // TensorShapeProto{dim, unknown_rank (3): false}.
    const shape = raw(sub(0x12, dim), w().uint32(0x18).uint32(0).finish());
    // TensorProto{dtype: DT_FLOAT, tensor_shape, version_number (3): 1, float_val: [0.5] packed}.
    const tensor = raw(
      w().uint32(0x08).uint32(1).finish(),
      w().uint32(0x12).bytes(shape).finish(),
      w().uint32(0x18).uint32(1).finish(),
      sub(0x2a, w().float(0.5)),
    );
    // SummaryMetadata{plugin_data{plugin_name, content, unknown 3}, display_name (2), data_class (4): 1}.
    const plugin = w()
      .uint32(0x0a)
      .string('scalars')
      .uint32(0x12)
      .bytes(Uint8Array.of(7))
      .uint32(0x18)
      .uint32(9);
    const metadata = raw(
      sub(0x0a, plugin),
      w().uint32(0x12).string('Loss').finish(),
      w().uint32(0x20).uint32(1).finish(),
    );
    // HistogramProto{min: -1, an unknown varint field 99, bucket_limit: [2] packed}.
    const histo = raw(
      w().uint32(0x09).double(-1).finish(),
      w()
        .uint32(99 * 8)
        .uint32(5)
        .finish(),
      sub(0x32, w().double(2)),
    );
    const values = [
      raw(
        w().uint32(0x0a).string('t').finish(),
        w().uint32(0x42).bytes(tensor).finish(),
        w().uint32(0x4a).bytes(metadata).finish(),
      ),
      // No tag, and a tensor with no shape: dtype only.
      raw(w().uint32(0x42).bytes(w().uint32(0x08).uint32(2).finish()).finish()),
      raw(w().uint32(0x0a).string('h').finish(), w().uint32(0x2a).bytes(histo).finish()),
    ];
    // Summary{value × 3, an unknown varint field 3}.
    const summary = raw(
      ...values.map((value) => w().uint32(0x0a).bytes(value).finish()),
      w().uint32(0x18).uint32(4).finish(),
    );
    const event = raw(
      w().uint32(0x09).double(1.5).uint32(0x10).int64(-2).finish(),
      w().uint32(0x2a).bytes(summary).finish(),
    );
    const tensorOf = (dtype: number, shapeOf: number[], floatVal: number[]): object => ({
      dtype,
      shape: shapeOf,
      floatVal,
      doubleVal: [],
      stringVal: [],
      intVal: [],
    });
    expect(decodeEvent(event)).toEqual({
      wallTime: 1.5,
      step: -2n,
      values: [
        {
          tag: 't',
          tensor: tensorOf(1, [3], [0.5]),
          pluginName: 'scalars',
          pluginContent: Buffer.of(7),
          dataClass: 1,
        },
        { tag: '', tensor: tensorOf(2, [], []) },
        {
          tag: 'h',
          histo: { min: -1, max: 0, num: 0, sum: 0, sumSquares: 0, bucketLimit: [2], bucket: [] },
        },
      ],
    });
  });
});
