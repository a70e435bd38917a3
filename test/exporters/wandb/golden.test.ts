import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { TelemetryError } from '../../../src/errors.js';
import {
  BLOCK_BYTES,
  CHUNK_FIRST,
  CHUNK_FULL,
  CHUNK_LAST,
  CHUNK_MIDDLE,
  WANDB_FILE_HEADER,
  WandbLogEncoder,
  chunkChecksum,
  framedLength,
} from '../../../src/formats/wandb/log-framing.js';
import { scanWandbLog } from '../../../src/formats/wandb/log-scan.js';
import { decodeRecord, encodeRecord } from '../../../src/formats/wandb/record-codec.js';
import type { WandbRecord } from '../../../src/formats/wandb/record-types.js';
import { readWandbLog } from '../../../src/exporters/wandb/wandb-log-reader.js';

const ROOT = fileURLToPath(new URL('../../fixtures/wandb/', import.meta.url));

interface VectorRecord {
  num: number;
  type: string;
  start_offset: number;
  end_offset: number;
  payload_len: number;
  record: { num: string } & Record<string, unknown>;
}
const vectors = JSON.parse(fs.readFileSync(path.join(ROOT, 'vectors.json'), 'utf8')) as {
  vectors: Record<string, { wandb_file: string; size: number; records: VectorRecord[] }>;
};
const runs = Object.entries(vectors.vectors);
const golden = (file: string): Buffer => fs.readFileSync(path.join(ROOT, file));
/** The vectors elide bodies of the large framing-test records with a string note. */
const isElided = (vector: VectorRecord): boolean => typeof vector.record[vector.type] === 'string';

/** Walks the chunk headers of a file: [offset, length, type] for each chunk. */
function chunks(bytes: Buffer): Array<[number, number, number]> {
  const out: Array<[number, number, number]> = [];
  let pos = WANDB_FILE_HEADER.length;
  while (pos < bytes.length) {
    const left = BLOCK_BYTES - (pos % BLOCK_BYTES);
    if (left < 7) {
      pos += left;
      continue;
    }
    const length = bytes.readUInt16LE(pos + 4);
    out.push([pos, length, bytes[pos + 6] as number]);
    pos += 7 + length;
  }
  return out;
}

describe('W&B log framing', () => {
  it('uses IEEE CRC-32 seeded with the type byte, as the golden chunk headers show', () => {
    expect(zlib.crc32('123456789')).toBe(0xcbf43926);
    const bytes = golden(runs[0]![1].wandb_file);
    const [offset, length, type] = chunks(bytes)[0]!;
    const data = bytes.subarray(offset + 7, offset + 7 + length);
    expect(chunkChecksum(type, data)).toBe(bytes.readUInt32LE(offset));
    expect(zlib.crc32(Buffer.concat([Buffer.of(type), data]))).toBe(bytes.readUInt32LE(offset));
  });

  it('starts every golden file with the 7-byte :W&B header', () => {
    for (const [, run] of runs)
      expect([...golden(run.wandb_file).subarray(0, 7)]).toEqual([...WANDB_FILE_HEADER]);
    expect(Buffer.from(WandbLogEncoder.header()).toString('hex')).toBe('3a572642e1be00');
  });

  it('splits the 70 KB record FIRST/MIDDLE/LAST and starts a record with an empty FIRST chunk when 7 bytes are left', () => {
    const bytes = golden(vectors.vectors['offline-run-20250101_000002-mb10ck01']!.wandb_file);
    const list = chunks(bytes);
    expect(list.slice(2, 5).map(([, , type]) => type)).toEqual([CHUNK_FIRST, CHUNK_MIDDLE, CHUNK_LAST]);
    const empty = list.find(([, length, type]) => type === CHUNK_FIRST && length === 0);
    expect(empty?.[0]).toBe(4 * BLOCK_BYTES - 7);
    // Our length arithmetic agrees with the file at the same offsets.
    expect(framedLength(149, 70038)).toBe(70208 - 149);
    expect(framedLength(98301, 21)).toBe(98332 - 98301);
    expect(framedLength(131065, 28)).toBe(131107 - 131065);
    expect(framedLength(4 * BLOCK_BYTES - 7, 0)).toBe(7);
  });
});

describe('readWandbLog on the golden runs', () => {
  it.each(runs)('decodes %s to the records vectors.json lists', (_name, run) => {
    const log = readWandbLog(path.join(ROOT, run.wandb_file));
    expect(log.damage).toBeUndefined();
    expect(log.size).toBe(run.size);
    expect(log.records).toHaveLength(run.records.length);
    for (const [i, vector] of run.records.entries()) {
      const got = log.records[i]!;
      expect({ start: got.start, end: got.end, payloadLength: got.payloadLength, type: got.type }).toEqual({
        start: vector.start_offset,
        end: vector.end_offset,
        payloadLength: vector.payload_len,
        type: vector.type,
      });
      expect(got.record.num).toBe(String(vector.num));
      if (!isElided(vector)) expect(got.record).toEqual(vector.record);
    }
  });

  it('decodes non-finite and unicode history values exactly as W&B wrote them', () => {
    const log = readWandbLog(
      path.join(ROOT, vectors.vectors['offline-run-20250101_000000-g0ld3nv1']!.wandb_file),
    );
    const values = log.records
      .filter((record) => record.type === 'history')
      .flatMap((record) => record.record.history?.item ?? [])
      .map((item) => item.value_json);
    expect(values).toEqual(expect.arrayContaining(['NaN', 'Infinity', '-Infinity', '"hello \\u00e9"']));
  });

  it('rejects the bad-checksum copy with an error naming the byte offset of the damaged chunk', () => {
    const file = path.join(ROOT, 'corrupt/run-g0ld3nv1.bad-crc.wandb');
    expect(() => readWandbLog(file)).toThrow(TelemetryError);
    expect(() => readWandbLog(file)).toThrow(
      /corrupt at byte offset 188: chunk checksum mismatch \(record 3\)/,
    );
    try {
      readWandbLog(file);
    } catch (error) {
      expect((error as TelemetryError).code).toBe('WANDB_CORRUPT');
      expect((error as Error).message).toContain(file);
    }
  });

  it('rejects the truncated copy in strict mode, naming where the torn record starts', () => {
    const file = path.join(ROOT, 'corrupt/run-g0ld3nv1.truncated.wandb');
    expect(() => readWandbLog(file)).toThrow(/truncated at byte offset 1574/);
  });

  it('returns the whole records before the damage in tolerant mode', () => {
    const truncated = readWandbLog(path.join(ROOT, 'corrupt/run-g0ld3nv1.truncated.wandb'), {
      strict: false,
    });
    expect(truncated.records).toHaveLength(13);
    expect(truncated.records.at(-1)?.type).toBe('exit');
    expect(truncated.damage).toMatchObject({ kind: 'truncated', offset: 1574 });
    const badCrc = readWandbLog(path.join(ROOT, 'corrupt/run-g0ld3nv1.bad-crc.wandb'), { strict: false });
    expect(badCrc.records.map((record) => record.type)).toEqual(['header', 'run']);
    expect(badCrc.damage).toMatchObject({ kind: 'corrupt', offset: 188 });
  });

  it('rejects a file that is not a W&B log, and a record whose payload is not a Record', () => {
    expect(() => readWandbLog(Buffer.from('not a wandb file'), { name: 'x.wandb' })).toThrow(
      /x\.wandb: corrupt at byte offset 0: not a W&B log/,
    );
    const encoder = new WandbLogEncoder();
    // Field 2 (history) with wire type 0 where a message is expected.
    const bad = Buffer.concat([
      WandbLogEncoder.header(),
      encoder.encode(Uint8Array.of(0x08, 0x01, 0x10, 0x01)),
    ]);
    expect(() => readWandbLog(bad)).toThrow(
      /byte offset 7: record 1 is not a valid wandb_internal.Record .*history/,
    );
  });

  it('rejects a MIDDLE chunk where a record should start and non-zero block padding', () => {
    const file = Buffer.concat([WandbLogEncoder.header(), Buffer.alloc(7)]);
    file.writeUInt32LE(chunkChecksum(CHUNK_MIDDLE, new Uint8Array(0)), 7);
    file[13] = CHUNK_MIDDLE;
    expect(scanWandbLog(file).damage).toMatchObject({ kind: 'corrupt', offset: 7 });
    const encoder = new WandbLogEncoder();
    const filler = encoder.encode(new Uint8Array(BLOCK_BYTES - 7 - 7 - 3));
    const next = encoder.encode(Uint8Array.of(0x08, 0x02));
    const padded = Buffer.concat([WandbLogEncoder.header(), filler, next]);
    expect(scanWandbLog(padded).records).toHaveLength(2);
    padded[BLOCK_BYTES - 2] = 1;
    expect(scanWandbLog(padded).damage).toMatchObject({ kind: 'corrupt', offset: BLOCK_BYTES - 2 });
  });
});

describe('the writer reproduces the golden files byte for byte', () => {
  it.each(runs)('re-encodes %s from the same records into an identical file', (_name, run) => {
    const original = golden(run.wandb_file);
    const decoded = scanWandbLog(original).records.map((scanned) => decodeRecord(scanned.payload));
    const encoder = new WandbLogEncoder();
    const parts: Uint8Array[] = [WandbLogEncoder.header()];
    for (const [i, vector] of run.records.entries()) {
      // Records as vectors.json states them; the elided framing fillers come from the file.
      const record: WandbRecord = isElided(vector) ? decoded[i]! : (vector.record as WandbRecord);
      const payload = Buffer.from(encodeRecord(record));
      expect(payload.length).toBe(vector.payload_len);
      const framed = encoder.encode(payload);
      expect(encoder.position).toBe(vector.end_offset);
      parts.push(framed);
    }
    expect(Buffer.concat(parts).equals(original)).toBe(true);
  });

  it('frames a record in place with encodeWith exactly as encode does, across block boundaries', () => {
    const plain = new WandbLogEncoder();
    const inPlace = new WandbLogEncoder();
    for (const size of [0, 10, BLOCK_BYTES - 21, 3, 70_000, 1, 32_000, 32_761, 5]) {
      const payload = Buffer.alloc(size, size % 251);
      const expected = plain.encode(payload);
      const got = inPlace.encodeWith(size, (buf, at) => payload.copy(buf, at));
      expect(got.equals(expected)).toBe(true);
    }
    expect(inPlace.position).toBe(plain.position);
  });

  it('writes a FULL zero-length chunk, not a split, for an empty payload with exactly 7 bytes left', () => {
    const encoder = new WandbLogEncoder(BLOCK_BYTES - 7);
    const framed = encoder.encode(new Uint8Array(0));
    expect(framed.length).toBe(7);
    expect(framed[6]).toBe(CHUNK_FULL);
  });
});
