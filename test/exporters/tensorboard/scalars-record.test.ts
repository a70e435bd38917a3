import fs from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { frameRecord, scanRecords } from '../../../src/formats/codec/tfrecord.js';
import { decodeEvent } from '../../../src/formats/tensorboard/event-decoder.js';
import { encodeScalarsEvent } from '../../../src/formats/tensorboard/event-encoder.js';
import { encodeScalarsRecord } from '../../../src/formats/tensorboard/scalars-record.js';

const FIXTURES = new URL('../../fixtures/tensorboard/', import.meta.url);
const INT64 = { min: -(2n ** 63n), max: 2n ** 63n - 1n };

const rows = fc.record({
  wallTime: fc.double({ min: 0, max: 4e9, noNaN: true }),
  step: fc.oneof(fc.bigInt(INT64), fc.nat()),
  scalars: fc.array(fc.tuple(fc.string({ unit: 'grapheme', maxLength: 40 }), fc.double()), { maxLength: 20 }),
});

describe('hand-encoded scalar records', () => {
  it("are byte-identical to the Event encoder's Events framed separately, for any row", () => {
    fc.assert(
      fc.property(rows, ({ wallTime, step, scalars }) => {
        const tags = scalars.map(([tag]) => tag);
        const values = scalars.map(([, value]) => value);
        const ours = encodeScalarsRecord(wallTime, step, tags, values);
        expect(ours.toString('hex')).toBe(
          frameRecord(encodeScalarsEvent(wallTime, step, tags, values)).toString('hex'),
        );
      }),
    );
  });

  it('decode back to the same wall time, exact int64 step, tags and float32 values, in both forms', () => {
    fc.assert(
      fc.property(rows, fc.constantFrom('simple_value' as const, 'tensor' as const), (row, form) => {
        const tags = row.scalars.map(([tag]) => tag);
        const values = row.scalars.map(([, value]) => value);
        const scan = scanRecords(encodeScalarsRecord(row.wallTime, row.step, tags, values, form));
        expect(scan.ok && scan.records.length).toBe(1);
        const event = decodeEvent(scan.records[0]?.payload as Buffer);
        expect(event.wallTime).toBe(row.wallTime);
        expect(event.step).toBe(BigInt(row.step));
        expect(event.values?.map((value) => value.tag) ?? []).toEqual(tags);
        const decoded = (event.values ?? []).map((value) =>
          form === 'tensor' ? value.tensor?.floatVal[0] : value.simpleValue,
        );
        decoded.forEach((value, i) => expect(Object.is(value, Math.fround(values[i] as number))).toBe(true));
        if (form === 'tensor') {
          for (const value of event.values ?? []) {
            expect(value.tensor).toMatchObject({ dtype: 1, shape: [] });
            expect(value.pluginName).toBe('scalars');
          }
        }
      }),
    );
  });

  it("writes tensor scalars byte-identical to the golden rank-0 DT_FLOAT float_val records (TF2's form)", () => {
    const bytes = fs.readFileSync(new URL('tensor_scalars/events.out.tfevents.1700000100.golden', FIXTURES));
    const scan = scanRecords(bytes);
    expect(scan.ok).toBe(true);
    const floatVal = scan.records.filter(
      (record) => decodeEvent(record.payload).values?.[0]?.tag === 'tf2/float_val',
    );
    expect(floatVal).toHaveLength(3);
    for (const record of floatVal) {
      const event = decodeEvent(record.payload);
      const value = event.values?.[0]?.tensor?.floatVal[0] as number;
      const ours = encodeScalarsRecord(event.wallTime, event.step, ['tf2/float_val'], [value], 'tensor');
      expect(ours.toString('hex')).toBe(
        bytes.subarray(record.offset, record.offset + 16 + record.payload.length).toString('hex'),
      );
    }
  });

  // Deliberate difference: for the golden `tensor_content` (raw 4 bytes) and DT_DOUBLE scalars we
  // write only the float_val DT_FLOAT form, never DT_DOUBLE (TensorBoard's Rust data server drops
  // it). The bytes differ; the charted float32 value must not.
  it('writes the golden tensor_content and DT_DOUBLE scalars as float_val DT_FLOAT tensors with the same float32 value', () => {
    const bytes = fs.readFileSync(new URL('tensor_scalars/events.out.tfevents.1700000100.golden', FIXTURES));
    const scan = scanRecords(bytes);
    const others = scan.records
      .map((record) => decodeEvent(record.payload))
      .filter((event) => ['tf2/tensor_content', 'tf2/double_val'].includes(event.values?.[0]?.tag ?? ''));
    expect(others).toHaveLength(6);
    for (const event of others) {
      const tensor = event.values?.[0]?.tensor;
      const golden =
        tensor?.dtype === 2
          ? Math.fround(tensor.doubleVal[0] as number)
          : tensor?.tensorContent?.readFloatLE(0);
      const tag = event.values?.[0]?.tag as string;
      const ours = scanRecords(
        encodeScalarsRecord(event.wallTime, event.step, [tag], [golden as number], 'tensor'),
      );
      const value = decodeEvent(ours.records[0]?.payload as Buffer).values?.[0];
      expect(value?.tensor).toMatchObject({ dtype: 1, shape: [] });
      expect(Object.is(value?.tensor?.floatVal[0], golden)).toBe(true);
    }
  });

  it('encodes a row with no scalars as an Event with an empty summary', () => {
    const scan = scanRecords(encodeScalarsRecord(1.7e9, 3, [], []));
    expect(scan.ok && decodeEvent(scan.records[0]?.payload as Buffer)).toEqual({
      wallTime: 1.7e9,
      step: 3n,
      values: [],
    });
  });

  it('leaves step 0 out of the Event whether it is the number 0 or the bigint 0n, and writes every other step', () => {
    // By hand: wall_time 1 is key 09 then 000000000000f03f; an empty summary is 2a 00.
    const wallTime = '09' + '000000000000f03f';
    const cases: Array<[number | bigint, string]> = [
      [0, ''],
      [0n, ''],
      [1, '1001'],
      [-1n, '10' + 'ff'.repeat(9) + '01'],
      [-(2n ** 63n), '10' + '80'.repeat(9) + '01'],
      [2n ** 63n - 1n, '10' + 'ff'.repeat(8) + '7f'],
    ];
    for (const [step, stepField] of cases) {
      const scan = scanRecords(encodeScalarsRecord(1, step, [], []));
      expect(scan.ok && scan.records[0]?.payload.toString('hex'), String(step)).toBe(
        wallTime + stepField + '2a00',
      );
    }
  });
});
