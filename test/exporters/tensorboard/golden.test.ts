import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { crc32c, maskCrc } from '../../../src/formats/codec/crc32c.js';
import { frameRecord, scanRecords } from '../../../src/formats/codec/tfrecord.js';
import type { DecodedEvent } from '../../../src/formats/tensorboard/event-decoder.js';
import {
  encodeFileVersionEvent,
  encodeHistogramEvent,
  encodeTextEvent,
} from '../../../src/formats/tensorboard/event-encoder.js';
import { readEventFile } from '../../../src/exporters/tensorboard/event-file-reader.js';
import { encodeScalarsRecord } from '../../../src/formats/tensorboard/scalars-record.js';
import { TelemetryError } from '../../../src/errors.js';

const ROOT = fileURLToPath(new URL('../../fixtures/tensorboard/', import.meta.url));

interface VectorValue {
  tag: string;
  kind: string;
  simple_value?: number | string;
  simple_value_f32_hex?: string;
  histo?: {
    min: number;
    max: number;
    num: number;
    sum: number;
    sum_squares: number;
    bucket_limit: number[];
    bucket: number[];
  };
  tensor?: {
    dtype: number;
    shape: number[];
    string_val_utf8?: string[];
    float_val?: number[];
    double_val?: number[];
    tensor_content_hex?: string;
  };
  metadata?: { plugin_name: string; plugin_content_hex: string };
}
interface VectorRecord {
  offset: number;
  length: number;
  length_crc_ok: boolean;
  data_crc_ok: boolean;
  event: { wall_time: number; step_str: string; file_version?: string; summary?: VectorValue[] };
}
interface VectorFile {
  file: string;
  records: VectorRecord[];
}
const vectors = JSON.parse(fs.readFileSync(path.join(ROOT, 'vectors.json'), 'utf8')) as {
  files: VectorFile[];
  notes: { scalars: { inputs: Array<[string, number | string, number, number]> }; histogram_text: object };
};
const NON_FINITE: Record<string, number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };
const num = (value: number | string): number =>
  typeof value === 'string' ? (NON_FINITE[value] as number) : value;
const f32hex = (value: number): string => {
  const bytes = Buffer.alloc(4);
  bytes.writeFloatLE(value);
  return bytes.toString('hex');
};

function expectEventMatches(actual: DecodedEvent, expected: VectorRecord['event']): void {
  expect(actual.wallTime).toBe(expected.wall_time);
  expect(actual.step).toBe(BigInt(expected.step_str));
  expect(actual.fileVersion).toBe(expected.file_version);
  for (const [i, value] of (expected.summary ?? []).entries()) {
    const got = actual.values?.[i];
    expect(got?.tag).toBe(value.tag);
    if (value.kind === 'simple_value') {
      expect(f32hex(got?.simpleValue as number)).toBe(value.simple_value_f32_hex);
      expect(Object.is(got?.simpleValue, num(value.simple_value as number | string))).toBe(true);
    }
    if (value.histo) {
      expect(got?.histo).toEqual({
        min: value.histo.min,
        max: value.histo.max,
        num: value.histo.num,
        sum: value.histo.sum,
        sumSquares: value.histo.sum_squares,
        bucketLimit: value.histo.bucket_limit,
        bucket: value.histo.bucket,
      });
    }
    if (value.tensor?.string_val_utf8) expect(got?.tensor?.stringVal).toEqual(value.tensor.string_val_utf8);
    if (value.tensor) {
      expect(got?.tensor?.dtype).toBe(value.tensor.dtype);
      expect(got?.tensor?.shape).toEqual(value.tensor.shape);
      if (value.tensor.float_val) expect(got?.tensor?.floatVal).toEqual(value.tensor.float_val);
      if (value.tensor.double_val) expect(got?.tensor?.doubleVal).toEqual(value.tensor.double_val);
      if (value.tensor.tensor_content_hex !== undefined) {
        expect(got?.tensor?.tensorContent?.toString('hex')).toBe(value.tensor.tensor_content_hex);
      }
    }
    if (value.metadata) {
      expect(got?.pluginName).toBe(value.metadata.plugin_name);
      expect(got?.pluginContent?.toString('hex') ?? '').toBe(value.metadata.plugin_content_hex);
    }
  }
}

describe('CRC-32C and TFRecord framing', () => {
  it('matches the CRC-32C check value and the masked CRCs stored in the golden files', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
    const bytes = fs.readFileSync(path.join(ROOT, 'scalars/events.out.tfevents.1700000000.golden'));
    const scan = scanRecords(bytes);
    expect(scan.ok && scan.records.length).toBe(29);
    expect(maskCrc(crc32c(bytes.subarray(0, 8)))).toBe(bytes.readUInt32LE(8));
  });
});

describe('reading the golden tfevents files', () => {
  for (const file of vectors.files.filter((f) => !f.file.startsWith('corrupt_bad'))) {
    it(`decodes ${file.file} to exactly the values in vectors.json`, () => {
      const read = readEventFile(path.join(ROOT, file.file));
      const whole = file.records.filter((record) => record.length_crc_ok && record.data_crc_ok);
      const complete =
        read.truncatedAt === undefined ? whole : whole.filter((r) => r.offset < (read.truncatedAt as number));
      expect(read.events).toHaveLength(complete.length);
      complete.forEach((record, i) => expectEventMatches(read.events[i] as DecodedEvent, record.event));
      if (file.file.startsWith('corrupt_truncated')) {
        expect(read.truncatedAt).toBeDefined();
        expect(read.warnings[0]).toMatch(/truncated record at byte offset \d+/);
      }
    });
  }

  for (const name of ['corrupt_bad_data_crc', 'corrupt_bad_length_crc']) {
    it(`rejects ${name} with an error naming the file and byte offset`, () => {
      const file = path.join(ROOT, name, 'events.out.tfevents.1700000000.golden');
      let caught: unknown;
      try {
        readEventFile(file);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(TelemetryError);
      expect((caught as TelemetryError).code).toBe('TFEVENTS_CORRUPT');
      expect((caught as Error).message).toContain(file);
      expect((caught as Error).message).toMatch(/record 3 at byte offset \d+ has a bad (length|data) CRC/);
    });
  }
});

describe('writing events', () => {
  const golden = vectors.files.find((f) => f.file.startsWith('scalars/')) as VectorFile;
  const goldenBytes = fs.readFileSync(path.join(ROOT, golden.file));
  const recordBytes = (record: VectorRecord): Buffer =>
    goldenBytes.subarray(record.offset, record.offset + 12 + record.length + 4);

  it('writes the file_version record byte-identical to tensorboardX', () => {
    const record = golden.records[0] as VectorRecord;
    expect(frameRecord(encodeFileVersionEvent(record.event.wall_time))).toEqual(recordBytes(record));
  });

  it("writes every add_scalar input of vectors.json's notes byte-identical to tensorboardX (steps to 2^63-1, NaN, ±Inf, -0, float32 rounding, unicode)", () => {
    const inputs = vectors.notes.scalars.inputs;
    const singles = golden.records
      .slice(1)
      .filter(
        (record) => record.event.summary?.length === 1 && !record.event.summary[0]?.tag.startsWith('raw tag'),
      );
    expect(singles).toHaveLength(inputs.length);
    inputs.forEach(([tag, value, , wallTime], i) => {
      const record = singles[i] as VectorRecord;
      const ours = encodeScalarsRecord(wallTime, BigInt(record.event.step_str), [tag], [num(value)]);
      expect(ours.toString('hex'), tag).toBe(recordBytes(record).toString('hex'));
    });
  });

  it('writes one Event with several values (one logged row) byte-identical to the multi-value golden record', () => {
    const record = golden.records.find((r) => (r.event.summary?.length ?? 0) > 1) as VectorRecord;
    const summary = record.event.summary as VectorValue[];
    const ours = encodeScalarsRecord(
      record.event.wall_time,
      BigInt(record.event.step_str),
      summary.map((v) => v.tag),
      summary.map((v) => num(v.simple_value as number)),
    );
    expect(ours).toEqual(recordBytes(record));
  });

  it('writes histograms and text summaries byte-identical to tensorboardX', () => {
    const file = vectors.files.find((f) => f.file.startsWith('histogram_text/')) as VectorFile;
    const bytes = fs.readFileSync(path.join(ROOT, file.file));
    for (const record of file.records.slice(1)) {
      const value = (record.event.summary as VectorValue[])[0] as VectorValue;
      let ours: Buffer;
      if (value.histo) {
        ours = frameRecord(
          encodeHistogramEvent(record.event.wall_time, BigInt(record.event.step_str), value.tag, {
            ...value.histo,
            sumSquares: value.histo.sum_squares,
            bucketLimit: value.histo.bucket_limit,
          }),
        );
      } else if (value.tensor?.string_val_utf8) {
        ours = frameRecord(
          encodeTextEvent(
            record.event.wall_time,
            BigInt(record.event.step_str),
            value.tag,
            value.tensor.string_val_utf8[0] as string,
          ),
        );
      } else {
        ours = encodeScalarsRecord(
          record.event.wall_time,
          BigInt(record.event.step_str),
          [value.tag],
          [num(value.simple_value as number)],
        );
      }
      expect(ours).toEqual(bytes.subarray(record.offset, record.offset + 12 + record.length + 4));
    }
  });
});

describe('reader edge cases', () => {
  it('flags a truncated file and reads the same records from bytes as from the path', () => {
    const file = path.join(ROOT, 'corrupt_truncated_tail/events.out.tfevents.1700000000.golden');
    const fromPath = readEventFile(file);
    const fromBytes = readEventFile(new Uint8Array(fs.readFileSync(file)));
    expect(fromPath.truncated).toBe(true);
    expect(fromBytes.events).toEqual(fromPath.events);
    expect(fromBytes.warnings[0]).toMatch(/^<bytes>: truncated record at byte offset 1385/);
    expect(readEventFile(path.join(ROOT, 'scalars/events.out.tfevents.1700000000.golden')).truncated).toBe(
      false,
    );
  });

  it('rejects a record whose CRCs verify but whose payload is not an Event, naming record and offset', () => {
    const good = frameRecord(encodeFileVersionEvent(1.7e9));
    // A length-delimited field claiming 100 bytes that are not there.
    const bad = frameRecord(Uint8Array.from([0x2a, 0x64, 0x0a]));
    let caught: unknown;
    try {
      readEventFile(Buffer.concat([good, bad]));
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(TelemetryError);
    expect((caught as TelemetryError).code).toBe('TFEVENTS_CORRUPT');
    expect((caught as TelemetryError).message).toMatch(
      new RegExp(
        `^<bytes>: record 1 at byte offset ${good.length} is not a valid Event protobuf \\(field of 100 bytes runs past the end at offset 2\\)$`,
      ),
    );
  });
});
