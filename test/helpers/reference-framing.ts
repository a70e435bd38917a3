/**
 * Independent references for the framing our writers produce: bit-at-a-time CRCs written from the
 * polynomials (no table, no shared code with src/), and walkers that check every chunk and record
 * of a W&B log or a TFRecord file with them. A write-then-read test runs these on the bytes first,
 * so a checksum bug shared by our writer and reader cannot pass unnoticed.
 */
import { expect } from 'vitest';

/** Reflected CRC-32 with the given reversed polynomial, one bit at a time. */
function reflectedCrc32(poly: number, bytes: Uint8Array, seed = 0): number {
  let crc = ~seed >>> 0;
  for (const byte of bytes) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ poly : crc >>> 1;
  }
  return ~crc >>> 0;
}

/** CRC-32/ISO-HDLC (zlib's): check value 0xCBF43926. */
export const referenceCrc32 = (bytes: Uint8Array): number => reflectedCrc32(0xedb88320, bytes);
/** CRC-32C (Castagnoli): check value 0xE3069283. */
export const referenceCrc32c = (bytes: Uint8Array): number => reflectedCrc32(0x82f63b78, bytes);

/** TFRecord's mask, from its definition: rotate right by 15, add 0xa282ead8. */
export function referenceMask(crc: number): number {
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

const W_AND_B_HEADER = [0x3a, 0x57, 0x26, 0x42, 0xe1, 0xbe, 0x00];
const BLOCK = 32 * 1024;

/**
 * Walks a W&B log's 32 KiB blocks and checks each chunk: its CRC-32 over `[type] ++ data`, its
 * type sequence (FULL, or FIRST MIDDLE* LAST), and zero padding. Returns the records' payloads.
 */
export function expectValidWandbFraming(bytes: Uint8Array): Uint8Array[] {
  expect([...bytes.subarray(0, 7)]).toEqual(W_AND_B_HEADER);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 7;
  const records: Uint8Array[] = [];
  let parts: Uint8Array[] = [];
  let inRecord = false;
  while (at < bytes.length) {
    const left = BLOCK - (at % BLOCK);
    if (left < 7) {
      expect(
        [...bytes.subarray(at, at + left)].every((b) => b === 0),
        `padding at ${at}`,
      ).toBe(true);
      at += left;
      continue;
    }
    expect(bytes.length - at, `a torn chunk header at ${at}`).toBeGreaterThanOrEqual(7);
    const stored = view.getUint32(at, true);
    const length = view.getUint16(at + 4, true);
    const type = bytes[at + 6] as number;
    const data = bytes.subarray(at + 7, at + 7 + length);
    expect(data.length, `chunk at ${at} runs past the end`).toBe(length);
    const withType = new Uint8Array(length + 1);
    withType[0] = type;
    withType.set(data, 1);
    expect(stored, `CRC-32 of the chunk at ${at}`).toBe(referenceCrc32(withType));
    expect(type === 1 || type === 2 ? !inRecord : inRecord, `chunk type ${type} at ${at}`).toBe(true);
    inRecord = type === 2 || type === 3;
    parts.push(data);
    if (type === 1 || type === 4) {
      records.push(Buffer.concat(parts));
      parts = [];
    }
    at += 7 + length;
  }
  expect(inRecord, 'the log ends inside a record').toBe(false);
  return records;
}

/** Walks a TFRecord file and checks both masked CRC-32C of every record. Returns the count. */
export function expectValidTfrecordFraming(bytes: Uint8Array): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  let records = 0;
  while (at < bytes.length) {
    expect(bytes.length - at, `a torn record header at ${at}`).toBeGreaterThanOrEqual(12);
    const length = Number(view.getBigUint64(at, true));
    expect(view.getUint32(at + 8, true), `length CRC at ${at}`).toBe(
      referenceMask(referenceCrc32c(bytes.subarray(at, at + 8))),
    );
    const data = bytes.subarray(at + 12, at + 12 + length);
    expect(data.length + 4, `record at ${at} runs past the end`).toBe(
      bytes.subarray(at + 12, at + 16 + length).length,
    );
    expect(view.getUint32(at + 12 + length, true), `data CRC at ${at}`).toBe(
      referenceMask(referenceCrc32c(data)),
    );
    records++;
    at += 16 + length;
  }
  return records;
}
