import fc from 'fast-check';
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
const step = fc.oneof(fc.bigInt(INT64), fc.integer({ min: -(2 ** 40), max: 2 ** 40 }));
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
});
