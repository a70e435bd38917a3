/**
 * The bytes of a run index file (docs/run-index.md): a header that ties the index to its stream,
 * then blocks, each framed as `u32 LE payload length · u32 LE CRC-32 of the payload · payload`, so a
 * block torn by a crash fails its length or checksum and is ignored with everything after it.
 *
 * Header: `CXRIDX03` · u32 LE JSON length · u32 LE CRC-32 of the JSON · JSON
 * `{"inode","headLength","headHash","pid"}` (the stream's inode and CRC-32 of its first headLength bytes).
 * Block payload: f64 end · f64 resume · u32 tail hash (CRC-32 of the stream's TAIL_BYTES before end)
 * · u32 flags (1: final) · u32 definitions length · u32 record count · u32 malformed lines · u32
 * malformed JSON length · definitions JSON `[[id, run, phase, name], ...]` · malformed JSON
 * `[[line, offset, field, reason], ...]` · zero padding to 8 bytes · records (bucket-record.ts), f64 LE.
 */
import { crc32 } from '@node-rs/crc32';
import os from 'node:os';
import { RECORD_COLUMNS } from './bucket-record.js';
import type { MalformedLine } from '../ndjson/line/metric-visitor.js';
import type { IndexBlock, SeriesDef } from './index-builder.js';

/**
 * 02: blocks carry malformed lines. 03: a level-0 bucket's steps never go back (an older index may
 * hide a restarted run's rows from a zoom). Older indexes are stale and rebuilt.
 */
export const MAGIC = Buffer.from('CXRIDX03', 'latin1');
/** The stream's first bytes hashed into the header (fewer when the stream was shorter). */
export const HEAD_BYTES = 4096;
/** The stream bytes before a block's end that the block's tail hash covers. */
export const TAIL_BYTES = 64;
/** A block's frame (u32 length, u32 CRC-32) and its payload's fixed fields, in bytes. */
export const BLOCK_FRAME_BYTES = 8;
export const BLOCK_FIXED_BYTES = 40;
const FRAME = BLOCK_FRAME_BYTES;
const FIXED = BLOCK_FIXED_BYTES;
const LITTLE_ENDIAN = os.endianness() === 'LE';

export interface IndexHeader {
  inode: number;
  headLength: number;
  headHash: number;
  /** The process that writes the index as it writes the stream (0: built by a reader). */
  pid?: number;
}

export interface StoredBlock extends IndexBlock {
  tailHash: number;
}

export interface DecodedIndex {
  header: IndexHeader | undefined;
  blocks: StoredBlock[];
  /** Byte length of each whole block in order, after the header. */
  blockEnds: number[];
  /** Bytes of the header (0 when it is missing or torn). */
  headerBytes: number;
}

export function encodeHeader(header: IndexHeader): Buffer {
  // Padded with spaces (still the same JSON) to a multiple of 8 bytes, so every block's records lie
  // 8-byte aligned in the file and a reader takes them as they are read, without a copy.
  const text = JSON.stringify(header);
  const json = Buffer.from(text.padEnd(Math.ceil(text.length / 8) * 8, ' '));
  const out = Buffer.alloc(MAGIC.length + FRAME + json.length);
  MAGIC.copy(out, 0);
  out.writeUInt32LE(json.length, MAGIC.length);
  out.writeUInt32LE(crc32(json), MAGIC.length + 4);
  json.copy(out, MAGIC.length + FRAME);
  return out;
}

export function encodeBlock(block: IndexBlock, tailHash: number): Buffer {
  return Buffer.concat(encodeBlockParts(block, tailHash));
}

/**
 * The bytes of a block as two buffers to write one after the other: the frame and the payload's
 * head, then the records as they lie in memory (a view, not a copy, on a little-endian machine).
 * A reader's first index of a big stream is one block of tens of MB (60 MB for 20 scalars ×
 * 1,000,000 steps), and each copy of it counted in the dashboard's peak RSS.
 */
export function encodeBlockParts(block: IndexBlock, tailHash: number): [Buffer, Buffer] {
  const defs = Buffer.from(JSON.stringify(block.defs.map((d) => [d.id, d.run, d.phase, d.name])));
  const malformed = Buffer.from(
    JSON.stringify((block.malformed?.samples ?? []).map((m) => [m.line, m.offset, m.field, m.reason])),
  );
  const recordsAt = FIXED + Math.ceil((defs.length + malformed.length) / 8) * 8;
  const head = Buffer.alloc(FRAME + recordsAt);
  const payloadHead = head.subarray(FRAME);
  payloadHead.writeDoubleLE(block.end, 0);
  payloadHead.writeDoubleLE(block.resume, 8);
  payloadHead.writeUInt32LE(tailHash >>> 0, 16);
  payloadHead.writeUInt32LE(block.final ? 1 : 0, 20);
  payloadHead.writeUInt32LE(defs.length, 24);
  payloadHead.writeUInt32LE(block.records.length / RECORD_COLUMNS, 28);
  payloadHead.writeUInt32LE(block.malformed?.count ?? 0, 32);
  payloadHead.writeUInt32LE(malformed.length, 36);
  defs.copy(payloadHead, FIXED);
  malformed.copy(payloadHead, FIXED + defs.length);
  let records: Buffer;
  if (LITTLE_ENDIAN)
    records = Buffer.from(block.records.buffer, block.records.byteOffset, block.records.byteLength);
  else {
    records = Buffer.alloc(block.records.length * 8);
    block.records.forEach((v, i) => records.writeDoubleLE(v, i * 8));
  }
  head.writeUInt32LE(payloadHead.length + records.length, 0);
  head.writeUInt32LE(crc32(records, crc32(payloadHead)), 4);
  return [head, records];
}

/** Reads what is whole: a torn or corrupt header gives no header; a torn block ends the list. */
export function decodeIndex(bytes: Buffer): DecodedIndex {
  const empty: DecodedIndex = { header: undefined, blocks: [], blockEnds: [], headerBytes: 0 };
  if (bytes.length < MAGIC.length + FRAME || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) return empty;
  const jsonLength = bytes.readUInt32LE(MAGIC.length);
  const headerBytes = MAGIC.length + FRAME + jsonLength;
  if (headerBytes > bytes.length) return empty;
  const json = bytes.subarray(MAGIC.length + FRAME, headerBytes);
  if (crc32(json) !== bytes.readUInt32LE(MAGIC.length + 4)) return empty;
  const header = JSON.parse(json.toString('utf8')) as IndexHeader;
  const blocks: StoredBlock[] = [];
  const blockEnds: number[] = [];
  let at = headerBytes;
  while (at + FRAME <= bytes.length) {
    const length = bytes.readUInt32LE(at);
    if (length < FIXED || at + FRAME + length > bytes.length) break;
    const payload = bytes.subarray(at + FRAME, at + FRAME + length);
    if (crc32(payload) !== bytes.readUInt32LE(at + 4)) break;
    blocks.push(decodeBlock(payload));
    at += FRAME + length;
    blockEnds.push(at);
  }
  return { header, blocks, blockEnds, headerBytes };
}

function decodeBlock(payload: Buffer): StoredBlock {
  const defsLength = payload.readUInt32LE(24);
  const count = payload.readUInt32LE(28);
  const malformedLength = payload.readUInt32LE(36);
  const recordsAt = FIXED + Math.ceil((defsLength + malformedLength) / 8) * 8;
  const samples = (
    JSON.parse(payload.toString('utf8', FIXED + defsLength, FIXED + defsLength + malformedLength)) as [
      number,
      number,
      string,
      string,
    ][]
  ).map(([line, offset, field, reason]): MalformedLine => ({ line, offset, field, reason }));
  const defs = (
    JSON.parse(payload.toString('utf8', FIXED, FIXED + defsLength)) as [number, string, string, string][]
  ).map(([id, run, phase, name]): SeriesDef => ({ id, run, phase, name }));
  let records: Float64Array;
  if (LITTLE_ENDIAN && (payload.byteOffset + recordsAt) % 8 === 0)
    // A view of the bytes read: a 60 MB index is not copied (its header keeps records aligned).
    records = new Float64Array(payload.buffer, payload.byteOffset + recordsAt, count * RECORD_COLUMNS);
  else {
    records = new Float64Array(count * RECORD_COLUMNS);
    if (LITTLE_ENDIAN)
      Buffer.from(records.buffer).set(payload.subarray(recordsAt, recordsAt + records.byteLength));
    else for (let i = 0; i < records.length; i++) records[i] = payload.readDoubleLE(recordsAt + i * 8);
  }
  return {
    end: payload.readDoubleLE(0),
    resume: payload.readDoubleLE(8),
    tailHash: payload.readUInt32LE(16),
    final: (payload.readUInt32LE(20) & 1) === 1,
    defs,
    records,
    malformed: { count: payload.readUInt32LE(32), samples },
  };
}
