/**
 * Splits a W&B transaction log into record payloads, verifying the file header, every chunk's
 * checksum, chunk order and block padding. Pure: bytes in, payloads out.
 *
 * Damage is reported, not thrown, with the byte offset where reading stopped, so callers choose:
 * a strict reader rejects the file; a tolerant one keeps the whole records before the damage
 * (what a crash mid-write leaves, and what `wandb sync` uploads before it reports the error).
 */
import {
  BLOCK_BYTES,
  CHUNK_FIRST,
  CHUNK_FULL,
  CHUNK_HEADER_BYTES,
  CHUNK_LAST,
  CHUNK_MIDDLE,
  HEADER_BYTES,
  WANDB_FILE_HEADER,
  chunkChecksum,
} from './log-framing.js';

export interface ScannedRecord {
  /** File offset where the record starts (its padding, if any, included). */
  start: number;
  /** File offset just past its last chunk. */
  end: number;
  payload: Uint8Array;
}

export type ScanDamage =
  /** The file ends inside a record (a writer still writing, or killed mid-write). */
  | { kind: 'truncated'; offset: number; message: string }
  /** Bytes that no writer produces: a bad header, checksum, chunk type, length or padding. */
  | { kind: 'corrupt'; offset: number; message: string };

export interface LogScan {
  records: ScannedRecord[];
  damage?: ScanDamage;
}

export function scanWandbLog(bytes: Uint8Array): LogScan {
  return scanWandbLogFrom(bytes, 0);
}

/**
 * Scans `bytes`, which hold a log from file offset `base` on (0: the whole file, header included;
 * otherwise `base` must be where a record, or its padding, starts). Blocks count from file offset 0,
 * so a log that grows is read a piece at a time. `resync`: the bytes start at a block boundary after
 * damage, so the MIDDLE and LAST chunks of a record whose start was lost are stepped over, as
 * LevelDB's reader does, before the first whole record.
 */
export function scanWandbLogFrom(bytes: Uint8Array, base: number, resync = false): LogScan {
  const records: ScannedRecord[] = [];
  if (base === 0) {
    const header = checkHeader(bytes);
    if (header !== undefined) return { records, damage: header };
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // File offsets: `pos` walks the file; bytes[pos - base] is the byte at file offset pos.
  const end = base + bytes.byteLength;
  let pos = base === 0 ? HEADER_BYTES : base;
  let skipping = resync;
  while (pos < end) {
    const start = pos;
    const padding = BLOCK_BYTES - (pos % BLOCK_BYTES);
    if (padding < CHUNK_HEADER_BYTES) {
      for (let i = pos; i < pos + padding && i < end; i++) {
        if (bytes[i - base] !== 0) return damaged(records, 'corrupt', i, 'non-zero byte in block trailer padding');
      }
      pos += padding;
      if (pos >= end) {
        return pos === end ? { records } : damaged(records, 'truncated', start, 'file ends inside block trailer padding');
      }
    }
    const parts: Uint8Array[] = [];
    for (let chunkIndex = 0; ; chunkIndex++) {
      if (end - pos < CHUNK_HEADER_BYTES) {
        return damaged(records, 'truncated', start, `file ends inside the chunk header at byte offset ${pos}`);
      }
      const at = pos - base;
      const crc = view.getUint32(at, true);
      const length = view.getUint16(at + 4, true);
      const type = view.getUint8(at + 6);
      const blockLeft = BLOCK_BYTES - (pos % BLOCK_BYTES) - CHUNK_HEADER_BYTES;
      if (type < CHUNK_FULL || type > CHUNK_LAST) {
        return damaged(records, 'corrupt', pos, `chunk has unknown type ${type}`);
      }
      if (length > blockLeft) {
        return damaged(records, 'corrupt', pos, `chunk length ${length} crosses the 32 KiB block boundary`);
      }
      const dataEnd = pos + CHUNK_HEADER_BYTES + length;
      if (dataEnd > end) {
        return damaged(records, 'truncated', start, `file ends inside the chunk at byte offset ${pos}`);
      }
      const data = bytes.subarray(at + CHUNK_HEADER_BYTES, dataEnd - base);
      if (chunkChecksum(type, data) !== crc) {
        return damaged(records, 'corrupt', pos, `chunk checksum mismatch (record ${records.length + 1})`);
      }
      const first = chunkIndex === 0;
      if (skipping && first && (type === CHUNK_MIDDLE || type === CHUNK_LAST)) {
        // The rest of a record whose start was lost to damage.
        pos = dataEnd;
        break;
      }
      skipping = false;
      if (first !== (type === CHUNK_FULL || type === CHUNK_FIRST)) {
        return damaged(
          records,
          'corrupt',
          pos,
          first
            ? `record starts with a ${chunkName(type)} chunk`
            : `${chunkName(type)} chunk inside a split record`,
        );
      }
      parts.push(data);
      pos = dataEnd;
      if (type === CHUNK_FULL || type === CHUNK_LAST) {
        records.push({ start, end: pos, payload: parts.length === 1 ? (parts[0] as Uint8Array) : concat(parts) });
        break;
      }
      if (pos % BLOCK_BYTES !== 0) {
        return damaged(records, 'corrupt', pos, `${chunkName(type)} chunk does not fill its block`);
      }
      if (pos >= end) {
        return damaged(records, 'truncated', start, 'file ends inside a split record');
      }
    }
  }
  return { records };
}

function checkHeader(bytes: Uint8Array): ScanDamage | undefined {
  if (bytes.byteLength < HEADER_BYTES) {
    return {
      kind: 'truncated',
      offset: 0,
      message: `file is ${bytes.byteLength} bytes, shorter than the 7-byte W&B header`,
    };
  }
  for (let i = 0; i < HEADER_BYTES; i++) {
    if (bytes[i] !== WANDB_FILE_HEADER[i]) {
      return {
        kind: 'corrupt',
        offset: i,
        message: 'not a W&B log: bad file header (expected ":W&B" 0xBEE1 version 0)',
      };
    }
  }
  return undefined;
}

function damaged(
  records: ScannedRecord[],
  kind: ScanDamage['kind'],
  offset: number,
  message: string,
): LogScan {
  return { records, damage: { kind, offset, message } };
}

function chunkName(type: number): string {
  return type === CHUNK_FULL
    ? 'FULL'
    : type === CHUNK_FIRST
      ? 'FIRST'
      : type === CHUNK_MIDDLE
        ? 'MIDDLE'
        : 'LAST';
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.byteLength, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}
