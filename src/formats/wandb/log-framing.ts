/**
 * Framing of W&B's transaction log (`run-<id>.wandb`): LevelDB's log format with W&B's own file
 * header. Pure functions over bytes; file I/O lives elsewhere.
 *
 * - File header `:W&B` · magic 0xBEE1 (LE) · version 0, 7 bytes, counted as part of block 0.
 * - 32 KiB blocks counted from file offset 0. Each chunk: `crc u32 LE · length u16 LE · type u8 ·
 *   data`; a chunk never crosses a block boundary.
 * - Fewer than 7 bytes left in a block are zero padding; exactly 7 left gets a zero-length FIRST
 *   chunk (the header fits, no data does), as W&B's own writer does.
 * - The checksum is plain IEEE CRC-32 over the type byte then the data, not masked and not CRC-32C
 *   (the golden files prove it, whatever W&B's docstring says).
 */
import zlib from 'node:zlib';

export const WANDB_FILE_HEADER = Uint8Array.of(0x3a, 0x57, 0x26, 0x42, 0xe1, 0xbe, 0x00);
export const HEADER_BYTES = 7;
export const BLOCK_BYTES = 32 * 1024;
export const CHUNK_HEADER_BYTES = 7;

export const CHUNK_FULL = 1;
export const CHUNK_FIRST = 2;
export const CHUNK_MIDDLE = 3;
export const CHUNK_LAST = 4;
export type ChunkType = typeof CHUNK_FULL | typeof CHUNK_FIRST | typeof CHUNK_MIDDLE | typeof CHUNK_LAST;

/** CRC-32 of the lone type byte: the seed each chunk's checksum continues from. */
const TYPE_SEEDS = [0, 1, 2, 3, 4].map((type) => zlib.crc32(Uint8Array.of(type)));

/** IEEE CRC-32 over `[type] ++ data`, as stored in a chunk header. */
export function chunkChecksum(type: number, data: Uint8Array): number {
  const seed = TYPE_SEEDS[type] ?? zlib.crc32(Uint8Array.of(type));
  // Node's zlib.crc32 drops the seed and answers 0 for an empty view of a zero-length
  // ArrayBuffer (no data pointer), so an empty chunk's checksum is taken as the seed itself.
  return data.byteLength === 0 ? seed : zlib.crc32(data, seed);
}

/** Bytes a record of `payloadLength` occupies when it starts at file offset `offset` (padding included). */
export function framedLength(offset: number, payloadLength: number): number {
  let at = offset;
  let left = BLOCK_BYTES - (at % BLOCK_BYTES);
  if (left < CHUNK_HEADER_BYTES) {
    at += left;
    left = BLOCK_BYTES;
  }
  let remaining = payloadLength;
  // The first chunk is written even when empty (the "exactly 7 left" case).
  for (;;) {
    const room = left - CHUNK_HEADER_BYTES;
    const take = Math.min(room, remaining);
    at += CHUNK_HEADER_BYTES + take;
    remaining -= take;
    if (remaining === 0) return at - offset;
    left = BLOCK_BYTES;
  }
}

/**
 * Frames one payload written at file offset `offset` into `out` (which must hold
 * `framedLength(offset, payload.length)` bytes). For a record that fits one FULL chunk, `payload`
 * may already sit in `out` at that chunk's data area (encoded in place, no copy); otherwise it
 * must be a separate buffer.
 */
export function frameInto(out: Uint8Array, offset: number, payload: Uint8Array): number {
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  let pos = 0;
  let left = BLOCK_BYTES - (offset % BLOCK_BYTES);
  if (left < CHUNK_HEADER_BYTES) {
    out.fill(0, 0, left);
    pos = left;
    left = BLOCK_BYTES;
  }
  const total = payload.byteLength;
  if (total + CHUNK_HEADER_BYTES <= left) {
    writeChunk(out, view, pos, CHUNK_FULL, payload);
    return pos + CHUNK_HEADER_BYTES + total;
  }
  // Split: FIRST fills the current block (possibly with zero data), MIDDLEs fill whole blocks,
  // LAST takes the rest.
  let used = left - CHUNK_HEADER_BYTES;
  writeChunk(out, view, pos, CHUNK_FIRST, payload.subarray(0, used));
  let at = pos + left;
  const room = BLOCK_BYTES - CHUNK_HEADER_BYTES;
  while (total - used > room) {
    writeChunk(out, view, at, CHUNK_MIDDLE, payload.subarray(used, used + room));
    used += room;
    at += BLOCK_BYTES;
  }
  writeChunk(out, view, at, CHUNK_LAST, payload.subarray(used));
  return at + CHUNK_HEADER_BYTES + (total - used);
}

function writeChunk(out: Uint8Array, view: DataView, at: number, type: ChunkType, data: Uint8Array): void {
  const crc = chunkChecksum(type, data);
  // A payload encoded in place already sits where it belongs.
  if (data.buffer !== out.buffer || data.byteOffset !== out.byteOffset + at + CHUNK_HEADER_BYTES) {
    out.set(data, at + CHUNK_HEADER_BYTES);
  }
  view.setUint32(at, crc, true);
  view.setUint16(at + 4, data.byteLength, true);
  view.setUint8(at + 6, type);
}

/**
 * Stateful framer for one log file: it owns the file offset (blocks are counted from offset 0),
 * and returns each record's bytes, padding included, as one buffer to append with one write.
 */
export class WandbLogEncoder {
  private offset: number;

  /** `offset`: the file size so far; a new file starts after its 7-byte header. */
  constructor(offset = HEADER_BYTES) {
    this.offset = offset;
  }

  /** File offset the next record starts at. */
  get position(): number {
    return this.offset;
  }

  /** Frames the next record at `offset` (the file was cut back there after a write fault). */
  rewind(offset: number): void {
    this.offset = offset;
  }

  /** The file header, for a new file. */
  static header(): Uint8Array {
    return WANDB_FILE_HEADER.slice();
  }

  /** Frames one serialized Record. */
  encode(payload: Uint8Array): Buffer {
    const out = Buffer.allocUnsafe(framedLength(this.offset, payload.byteLength));
    frameInto(out, this.offset, payload);
    this.offset += out.byteLength;
    return out;
  }

  /**
   * Frames a payload the caller encodes in place: `write(buf, at)` must fill exactly
   * `payloadLength` bytes at `at`. Saves the payload copy on the common FULL path.
   */
  encodeWith(payloadLength: number, write: (buf: Buffer, at: number) => void): Buffer {
    const length = framedLength(this.offset, payloadLength);
    const out = Buffer.allocUnsafe(length);
    const padding = BLOCK_BYTES - (this.offset % BLOCK_BYTES);
    const start = (padding < CHUNK_HEADER_BYTES ? padding : 0) + CHUNK_HEADER_BYTES;
    if (length === start + payloadLength) {
      // One FULL chunk: encode straight into its data area, then frame in place.
      write(out, start);
      frameInto(out, this.offset, out.subarray(start, start + payloadLength));
    } else {
      const payload = Buffer.allocUnsafe(payloadLength);
      write(payload, 0);
      frameInto(out, this.offset, payload);
    }
    this.offset += length;
    return out;
  }
}
