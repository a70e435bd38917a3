import fs from 'node:fs';
import zlib from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  crc32c,
  maskCrc,
  maskedCrc32c,
  maskedCrc32cRange,
  unmaskCrc,
} from '../../../src/formats/codec/crc32c.js';

const FIXTURES = new URL('../../fixtures/tensorboard/', import.meta.url);

interface GoldenRecord {
  offset: number;
  length: number;
  length_crc: number;
  data_crc: number;
  length_crc_ok: boolean;
  data_crc_ok: boolean;
}
const vectors = JSON.parse(fs.readFileSync(new URL('vectors.json', FIXTURES), 'utf8')) as {
  files: Array<{ file: string; records: GoldenRecord[] }>;
};

describe('CRC-32C', () => {
  it('gives the same masked CRC over a range, by table or natively, as over a copy of those bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.nat(), fc.nat(), (bytes, a, b) => {
        const start = bytes.length === 0 ? 0 : a % bytes.length;
        const end = start + (bytes.length === 0 ? 0 : b % (bytes.length - start + 1));
        expect(maskedCrc32cRange(bytes, start, end)).toBe(maskedCrc32c(bytes.slice(start, end)));
      }),
    );
  });

  it('gives the Castagnoli check value 0xE3069283 for "123456789"', () => {
    expect(crc32c(Buffer.from('123456789', 'ascii'))).toBe(0xe3069283);
  });

  it('is not the IEEE CRC that zlib.crc32 computes (0xCBF43926 for the same input)', () => {
    const input = Buffer.from('123456789', 'ascii');
    expect(zlib.crc32(input)).toBe(0xcbf43926);
    expect(crc32c(input)).not.toBe(zlib.crc32(input));
  });

  it('gives 0 for no bytes and an unsigned 32-bit number for any bytes', () => {
    expect(crc32c(new Uint8Array(0))).toBe(0);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const crc = crc32c(bytes);
        return Number.isInteger(crc) && crc >= 0 && crc <= 0xffffffff;
      }),
    );
  });

  it('checksums only the view it is given, not the rest of the underlying ArrayBuffer', () => {
    const whole = Buffer.from('xx123456789yy', 'ascii');
    expect(crc32c(whole.subarray(2, 11))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(whole.buffer, whole.byteOffset + 2, 9))).toBe(0xe3069283);
  });
});

describe('masked CRC', () => {
  it('rotates right by 15 and adds 0xA282EAD8 modulo 2^32', () => {
    expect(maskCrc(0)).toBe(0xa282ead8);
    expect(maskCrc(0xe3069283)).toBe(
      ((((0xe3069283 >>> 15) | (0xe3069283 << 17)) >>> 0) + 0xa282ead8) % 2 ** 32,
    );
  });

  it('unmasks back to the CRC it masked, for every 32-bit value', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 0xffffffff }), (crc) => unmaskCrc(maskCrc(crc)) === crc));
  });

  it("reproduces both stored masked CRCs of every intact record in tensorboardX's golden files", () => {
    let checked = 0;
    for (const { file, records } of vectors.files) {
      const bytes = fs.readFileSync(new URL(file, FIXTURES));
      for (const record of records) {
        if (!record.length_crc_ok || !record.data_crc_ok) continue;
        const payloadStart = record.offset + 12;
        expect(maskedCrc32c(bytes.subarray(record.offset, record.offset + 8))).toBe(record.length_crc);
        expect(maskedCrc32c(bytes.subarray(payloadStart, payloadStart + record.length))).toBe(
          record.data_crc,
        );
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(100);
  });
});
