/**
 * TFRecord framing read a chunk at a time from a file that may still grow, damage included: a
 * record with a bad data CRC is reported and stepped over (its length is sound); a bad length CRC
 * leaves no length to trust, so the scan looks for the next offset whose 12-byte header verifies
 * and goes on from there. An incomplete record at the end of the chunk is left for the next read.
 */
import { maskedCrc32cRange } from '../../formats/codec/crc32c.js';
import { TFRECORD_FOOTER_BYTES, TFRECORD_HEADER_BYTES } from '../../formats/codec/tfrecord.js';

export interface ChunkRecord {
  /** File offset of the record's header. */
  offset: number;
  payload: Buffer;
}

export interface ChunkDamage {
  offset: number;
  reason: string;
}

export interface ChunkScan {
  records: ChunkRecord[];
  damage: ChunkDamage[];
  /** File offset the next read starts at: past the last whole record, or where the search stopped. */
  next: number;
  /** Still looking for a verified header (after a bad length CRC) when the chunk ran out. */
  searching: boolean;
}

/** A record longer than this is damage, not data: no writer puts 1 GiB in one Event. */
export const MAX_RECORD_BYTES = 1 << 30;

function headerVerifies(bytes: Buffer, at: number): boolean {
  return maskedCrc32cRange(bytes, at, at + 8) === bytes.readUInt32LE(at + 8);
}

/**
 * Scans `bytes`, which hold the file from offset `base` on. `searching`: the previous chunk ended
 * inside damage, so the first header is looked for rather than trusted.
 */
export function scanChunk(bytes: Buffer, base: number, searching = false): ChunkScan {
  const records: ChunkRecord[] = [];
  const damage: ChunkDamage[] = [];
  let at = 0;
  let lost = searching;
  while (bytes.length - at >= TFRECORD_HEADER_BYTES) {
    if (lost || !headerVerifies(bytes, at)) {
      if (!lost) {
        damage.push({ offset: base + at, reason: 'bad length CRC; looking for the next whole record' });
        lost = true;
        at++;
      }
      while (bytes.length - at >= TFRECORD_HEADER_BYTES && !headerVerifies(bytes, at)) at++;
      if (bytes.length - at < TFRECORD_HEADER_BYTES) break;
      lost = false;
    }
    const length = Number(bytes.readBigUInt64LE(at));
    if (length > MAX_RECORD_BYTES) {
      damage.push({ offset: base + at, reason: `record length ${length} is beyond any Event; skipped` });
      lost = true;
      at++;
      continue;
    }
    const end = at + TFRECORD_HEADER_BYTES + length + TFRECORD_FOOTER_BYTES;
    if (end > bytes.length) break;
    const dataStart = at + TFRECORD_HEADER_BYTES;
    const dataEnd = end - TFRECORD_FOOTER_BYTES;
    if (maskedCrc32cRange(bytes, dataStart, dataEnd) === bytes.readUInt32LE(dataEnd)) {
      records.push({ offset: base + at, payload: bytes.subarray(dataStart, dataEnd) });
    } else {
      damage.push({ offset: base + at, reason: `bad data CRC (${length}-byte record skipped)` });
    }
    at = end;
  }
  return { records, damage, next: base + at, searching: lost };
}

/** Bytes the record starting at `at` needs in all, once its header is in `bytes` (for growing the read buffer). */
export function recordBytes(bytes: Buffer, at: number): number | undefined {
  if (bytes.length - at < TFRECORD_HEADER_BYTES || !headerVerifies(bytes, at)) return undefined;
  return TFRECORD_HEADER_BYTES + Number(bytes.readBigUInt64LE(at)) + TFRECORD_FOOTER_BYTES;
}
