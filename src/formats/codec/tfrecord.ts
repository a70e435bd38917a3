/**
 * TFRecord framing: `u64 LE length · u32 LE masked_crc32c(length bytes) · data · u32 LE masked_crc32c(data)`.
 * Pure functions over bytes; the file I/O lives elsewhere.
 */
import { maskedCrc32c } from './crc32c.js';

export const TFRECORD_HEADER_BYTES = 12;
export const TFRECORD_FOOTER_BYTES = 4;

/** Frames one payload as a single buffer, so it can be appended with one write. */
export function frameRecord(payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(TFRECORD_HEADER_BYTES + payload.byteLength + TFRECORD_FOOTER_BYTES);
  out.writeBigUInt64LE(BigInt(payload.byteLength), 0);
  out.writeUInt32LE(maskedCrc32c(out.subarray(0, 8)), 8);
  out.set(payload, TFRECORD_HEADER_BYTES);
  out.writeUInt32LE(maskedCrc32c(payload), TFRECORD_HEADER_BYTES + payload.byteLength);
  return out;
}

export interface TfRecord {
  /** Byte offset of the record's header in the file. */
  offset: number;
  payload: Buffer;
}

export type TfRecordScan =
  | { ok: true; records: TfRecord[]; truncatedAt?: number }
  | { ok: false; records: TfRecord[]; offset: number; reason: 'length_crc' | 'data_crc' };

/**
 * Reads every record. A truncated final record (a writer still writing, or killed) is reported as
 * `truncatedAt`, not an error, as TensorBoard waits on it; a CRC mismatch stops the scan.
 */
export function scanRecords(bytes: Buffer): TfRecordScan {
  const records: TfRecord[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    if (bytes.length - offset < TFRECORD_HEADER_BYTES) return { ok: true, records, truncatedAt: offset };
    const lengthBytes = bytes.subarray(offset, offset + 8);
    if (maskedCrc32c(lengthBytes) !== bytes.readUInt32LE(offset + 8)) {
      return { ok: false, records, offset, reason: 'length_crc' };
    }
    const length = Number(bytes.readBigUInt64LE(offset));
    const end = offset + TFRECORD_HEADER_BYTES + length + TFRECORD_FOOTER_BYTES;
    if (end > bytes.length) return { ok: true, records, truncatedAt: offset };
    const payload = bytes.subarray(offset + TFRECORD_HEADER_BYTES, offset + TFRECORD_HEADER_BYTES + length);
    if (maskedCrc32c(payload) !== bytes.readUInt32LE(end - TFRECORD_FOOTER_BYTES)) {
      return { ok: false, records, offset, reason: 'data_crc' };
    }
    records.push({ offset, payload });
    offset = end;
  }
  return { ok: true, records };
}
