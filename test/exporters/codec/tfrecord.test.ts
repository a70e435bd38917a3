import fs from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { maskedCrc32c } from '../../../src/formats/codec/crc32c.js';
import {
  TFRECORD_FOOTER_BYTES,
  TFRECORD_HEADER_BYTES,
  frameRecord,
  scanRecords,
} from '../../../src/formats/codec/tfrecord.js';

const FIXTURES = new URL('../../fixtures/tensorboard/', import.meta.url);
const vectors = JSON.parse(fs.readFileSync(new URL('vectors.json', FIXTURES), 'utf8')) as {
  files: Array<{ file: string; records: Array<{ offset: number; length: number }> }>;
};

const payloads = fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 12 });
const framedAll = (list: Uint8Array[]): Buffer => Buffer.concat(list.map((payload) => frameRecord(payload)));
/** Offsets at which each framed record starts, plus the end offset. */
function boundaries(list: Uint8Array[]): number[] {
  const offsets = [0];
  for (const payload of list) {
    offsets.push((offsets.at(-1) as number) + TFRECORD_HEADER_BYTES + payload.length + TFRECORD_FOOTER_BYTES);
  }
  return offsets;
}

describe('TFRecord framing', () => {
  it('lays out u64 LE length, masked CRC of the length, the data, masked CRC of the data', () => {
    const payload = Buffer.from('hello', 'ascii');
    const framed = frameRecord(payload);
    expect(framed).toHaveLength(8 + 4 + 5 + 4);
    expect(framed.readBigUInt64LE(0)).toBe(5n);
    expect(framed.readUInt32LE(8)).toBe(maskedCrc32c(framed.subarray(0, 8)));
    expect(framed.subarray(12, 17).toString('ascii')).toBe('hello');
    expect(framed.readUInt32LE(17)).toBe(maskedCrc32c(payload));
  });

  it("re-frames every record of tensorboardX's golden files to the same bytes", () => {
    let framed = 0;
    for (const { file, records } of vectors.files.filter((f) => !f.file.startsWith('corrupt_'))) {
      const bytes = fs.readFileSync(new URL(file, FIXTURES));
      for (const { offset, length } of records) {
        const whole = bytes.subarray(offset, offset + TFRECORD_HEADER_BYTES + length + TFRECORD_FOOTER_BYTES);
        const payload = whole.subarray(TFRECORD_HEADER_BYTES, TFRECORD_HEADER_BYTES + length);
        expect(frameRecord(payload).equals(whole), `${file} @${offset}`).toBe(true);
        framed++;
      }
    }
    expect(framed).toBeGreaterThan(40);
  });

  it('scans back exactly the payloads it framed, at their byte offsets', () => {
    fc.assert(
      fc.property(payloads, (list) => {
        const scan = scanRecords(framedAll(list));
        expect(scan.ok).toBe(true);
        expect(scan.ok && scan.truncatedAt).toBeUndefined();
        expect(scan.records.map((r) => Buffer.from(r.payload))).toEqual(list.map((p) => Buffer.from(p)));
        expect(scan.records.map((r) => r.offset)).toEqual(boundaries(list).slice(0, -1));
      }),
    );
  });

  it('reports a file cut anywhere inside a record as truncated at that record, keeping the whole ones before it', () => {
    fc.assert(
      fc.property(
        payloads.filter((list) => list.length > 0),
        fc.nat(),
        (list, cutSeed) => {
          const bytes = framedAll(list);
          const cut = cutSeed % bytes.length;
          const offsets = boundaries(list);
          const whole = offsets.filter((end) => end <= cut).length - 1;
          const scan = scanRecords(bytes.subarray(0, cut));
          expect(scan.ok).toBe(true);
          expect(scan.records).toHaveLength(whole);
          const expectedTruncation = offsets.includes(cut) ? undefined : offsets[whole];
          expect(scan.ok && scan.truncatedAt).toBe(expectedTruncation);
        },
      ),
    );
  });

  it('rejects a flipped bit with the record offset and which CRC caught it', () => {
    fc.assert(
      fc.property(
        payloads.filter((list) => list.length > 0),
        fc.nat(),
        fc.integer({ min: 0, max: 7 }),
        (list, bitSeed, bit) => {
          const bytes = framedAll(list);
          const at = bitSeed % bytes.length;
          const offsets = boundaries(list);
          const record = offsets.filter((start) => start <= at).length - 1;
          const start = offsets[record] as number;
          const inHeader = at - start < TFRECORD_HEADER_BYTES;
          bytes[at] = (bytes[at] as number) ^ (1 << bit);
          const scan = scanRecords(bytes);
          // A flip in the length's high bytes can make the record look longer than the file; the
          // length CRC still catches it first.
          expect(scan).toMatchObject({
            ok: false,
            offset: start,
            reason: inHeader ? 'length_crc' : 'data_crc',
          });
          expect(scan.records).toHaveLength(record);
        },
      ),
    );
  });

  it('frames an empty payload as a 16-byte record that scans back empty', () => {
    const framed = frameRecord(new Uint8Array(0));
    expect(framed).toHaveLength(16);
    const scan = scanRecords(framed);
    expect(scan.ok && scan.records[0]?.payload.length).toBe(0);
  });

  it('reports a bare 12-byte header whose length CRC is wrong as corrupt, not as a record still being written', () => {
    const whole = frameRecord(Uint8Array.from([1, 2, 3]));
    // A header announcing 5 bytes: u64 LE 5, then a CRC that is not its masked CRC-32C.
    const header = Buffer.from('0500000000000000' + '00000000', 'hex');
    expect(maskedCrc32c(header.subarray(0, 8))).not.toBe(0);
    expect(scanRecords(Buffer.concat([whole, header]))).toEqual({
      ok: false,
      records: [{ offset: 0, payload: Buffer.from([1, 2, 3]) }],
      offset: whole.length,
      reason: 'length_crc',
    });
    // The same header with its right CRC is a record cut short: truncated, not corrupt.
    header.writeUInt32LE(maskedCrc32c(header.subarray(0, 8)), 8);
    expect(scanRecords(Buffer.concat([whole, header]))).toMatchObject({
      ok: true,
      truncatedAt: whole.length,
    });
  });
});
