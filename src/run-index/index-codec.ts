/**
 * The bytes of a run index file (docs/run-index.md): a header that ties the index to its stream,
 * then blocks, each framed as `u32 LE payload length · u32 LE CRC-32 of the payload's head ·
 * payload`, the records after the head checked run by run, so a block torn by a crash fails its
 * length or a checksum and is ignored with everything after it, and a reader that wants a few runs
 * checks just those.
 *
 * Header: `CXRIDX04` · u32 LE JSON length · u32 LE CRC-32 of the JSON · JSON
 * `{"inode","headLength","headHash","pid"}` (the stream's inode and CRC-32 of its first headLength bytes).
 * Block payload head: f64 end · f64 resume · u32 tail hash (CRC-32 of the stream's TAIL_BYTES
 * before end) · u32 flags (1: final, 2: state) · u32 definitions length · u32 record count · u32
 * malformed lines · u32 malformed JSON length · u32 run count · u32 state bucket count ·
 * definitions JSON `[[id, run, phase, name], ...]` · malformed JSON `[[line, offset, field,
 * reason], ...]` · zero padding to 8 bytes · runs (u32 series · u32 level · u32 record count · u32
 * CRC-32 of its records) · state buckets (bucket-record.ts, f64) · u32 children of each · zero
 * padding to 8 bytes. Then the records (bucket-record.ts, f64 LE), run after run.
 */
import { crc32 } from './crc32.js';
import os from 'node:os';
import { RECORD_BYTES, RECORD_COLUMNS } from './bucket-record.js';
import { groupRuns, RUN_FIELDS } from './record-runs.js';
import type { MalformedLine } from '../ndjson/line/metric-visitor.js';
import type { IndexBlock, SeriesDef } from './index-builder.js';

/**
 * 02: blocks carry malformed lines. 03: a level-0 bucket's steps never go back (an older index may
 * hide a restarted run's rows from a zoom). 04: records in runs, each with its own checksum, and
 * a reader's block carries its open buckets. Older indexes are stale and rebuilt.
 */
export const MAGIC = Buffer.from('CXRIDX04', 'latin1');
/** The stream's first bytes hashed into the header (fewer when the stream was shorter). */
export const HEAD_BYTES = 4096;
/** The stream bytes before a block's end that the block's tail hash covers. */
export const TAIL_BYTES = 64;
/** A block's frame (u32 length, u32 CRC-32) and its payload's fixed fields, in bytes. */
export const BLOCK_FRAME_BYTES = 8;
export const BLOCK_FIXED_BYTES = 48;
/** Bytes of one run's entry: series, level, record count, CRC-32 of its records. */
export const RUN_ENTRY_BYTES = 16;
export const FLAG_FINAL = 1;
export const FLAG_STATE = 2;
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
  runs: Uint32Array;
}

/** Where a block's parts lie, from its fixed fields (offsets from the payload's start). */
export interface BlockLayout {
  defsLength: number;
  malformedLength: number;
  records: number;
  runCount: number;
  stateCount: number;
  runsAt: number;
  stateAt: number;
  childrenAt: number;
  /** The head's length: the records start here. */
  recordsAt: number;
  /** The payload's whole length for these fields (a frame saying otherwise is corrupt). */
  length: number;
}

/** The layout of a block whose fixed fields are `fixed` (BLOCK_FIXED_BYTES or more of its payload). */
export function blockLayout(fixed: Buffer): BlockLayout {
  const defsLength = fixed.readUInt32LE(24);
  const records = fixed.readUInt32LE(28);
  const malformedLength = fixed.readUInt32LE(36);
  const runCount = fixed.readUInt32LE(40);
  const stateCount = fixed.readUInt32LE(44);
  const runsAt = FIXED + pad8(defsLength + malformedLength);
  const stateAt = runsAt + runCount * RUN_ENTRY_BYTES;
  const childrenAt = stateAt + stateCount * RECORD_BYTES;
  const recordsAt = childrenAt + pad8(stateCount * 4);
  return {
    defsLength,
    malformedLength,
    records,
    runCount,
    stateCount,
    runsAt,
    stateAt,
    childrenAt,
    recordsAt,
    length: recordsAt + records * RECORD_BYTES,
  };
}

function pad8(n: number): number {
  return Math.ceil(n / 8) * 8;
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
 * 1,000,000 steps), and each copy of it counted in the dashboard's peak RSS. A block without runs
 * (made by hand) has its records grouped into runs first, in place.
 */
export function encodeBlockParts(block: IndexBlock, tailHash: number): [Buffer, Buffer] {
  const defs = defsJson(block.defs);
  const defsLength = defs.reduce((sum, piece) => sum + piece.length, 0);
  const malformed = Buffer.from(
    JSON.stringify((block.malformed?.samples ?? []).map((m) => [m.line, m.offset, m.field, m.reason])),
  );
  const runs = block.runs ?? groupRuns(block.records);
  const runCount = runs.length / RUN_FIELDS;
  const stateCount = (block.state?.open.length ?? 0) / RECORD_COLUMNS;
  const fixed = Buffer.alloc(FIXED);
  fixed.writeUInt32LE(defsLength, 24);
  fixed.writeUInt32LE(block.records.length / RECORD_COLUMNS, 28);
  fixed.writeUInt32LE(malformed.length, 36);
  fixed.writeUInt32LE(runCount, 40);
  fixed.writeUInt32LE(stateCount, 44);
  const layout = blockLayout(fixed);
  const head = Buffer.alloc(FRAME + layout.recordsAt);
  const payloadHead = head.subarray(FRAME);
  fixed.copy(payloadHead);
  payloadHead.writeDoubleLE(block.end, 0);
  payloadHead.writeDoubleLE(block.resume, 8);
  payloadHead.writeUInt32LE(tailHash >>> 0, 16);
  payloadHead.writeUInt32LE((block.final ? FLAG_FINAL : 0) | (block.state ? FLAG_STATE : 0), 20);
  payloadHead.writeUInt32LE(block.malformed?.count ?? 0, 32);
  let defsAt = FIXED;
  for (const piece of defs) defsAt += piece.copy(payloadHead, defsAt);
  malformed.copy(payloadHead, FIXED + defsLength);
  const records = littleEndianBytes(block.records);
  let at = 0;
  for (let r = 0; r < runCount; r++) {
    const count = runs[r * RUN_FIELDS + 2] as number;
    const e = layout.runsAt + r * RUN_ENTRY_BYTES;
    payloadHead.writeUInt32LE(runs[r * RUN_FIELDS] as number, e);
    payloadHead.writeUInt32LE(runs[r * RUN_FIELDS + 1] as number, e + 4);
    payloadHead.writeUInt32LE(count, e + 8);
    payloadHead.writeUInt32LE(crc32(records.subarray(at, at + count * RECORD_BYTES)), e + 12);
    at += count * RECORD_BYTES;
  }
  if (block.state !== undefined) {
    littleEndianBytes(block.state.open).copy(payloadHead, layout.stateAt);
    block.state.children.forEach((c, i) => payloadHead.writeUInt32LE(c, layout.childrenAt + i * 4));
  }
  head.writeUInt32LE(payloadHead.length + records.length, 0);
  head.writeUInt32LE(crc32(payloadHead), 4);
  return [head, records];
}

/** Definitions encoded at a time: their JSON as one string, and their arrays, stay small. */
const DEFS_PER_PIECE = 8192;

/**
 * `JSON.stringify(defs.map((d) => [d.id, d.run, d.phase, d.name]))` as UTF-8, in pieces made a
 * few thousand definitions at a time and copied into the block's head as they are: at a million
 * names the array of arrays, its string and one buffer of it took 180 MB more than the head.
 */
export function defsJson(defs: readonly SeriesDef[]): Buffer[] {
  const pieces: Buffer[] = [Buffer.from('[')];
  for (let from = 0; from < defs.length; from += DEFS_PER_PIECE) {
    const json = JSON.stringify(
      defs.slice(from, from + DEFS_PER_PIECE).map((d) => [d.id, d.run, d.phase, d.name]),
    );
    pieces.push(Buffer.from(from === 0 ? json.slice(1, -1) : `,${json.slice(1, -1)}`));
  }
  pieces.push(Buffer.from(']'));
  return pieces;
}

function littleEndianBytes(values: Float64Array): Buffer {
  if (LITTLE_ENDIAN) return Buffer.from(values.buffer, values.byteOffset, values.byteLength);
  const bytes = Buffer.alloc(values.length * 8);
  values.forEach((v, i) => bytes.writeDoubleLE(v, i * 8));
  return bytes;
}

/** f64 LE numbers at `at` of `bytes`: a view when aligned on a little-endian machine, else a copy. */
export function float64sAt(bytes: Buffer, at: number, count: number): Float64Array {
  if (LITTLE_ENDIAN && (bytes.byteOffset + at) % 8 === 0)
    return new Float64Array(bytes.buffer, bytes.byteOffset + at, count);
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) out[i] = bytes.readDoubleLE(at + i * 8);
  return out;
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
  while (at + FRAME + FIXED <= bytes.length) {
    const length = bytes.readUInt32LE(at);
    if (at + FRAME + length > bytes.length) break;
    const payload = bytes.subarray(at + FRAME, at + FRAME + length);
    const layout = blockLayout(payload);
    if (layout.length !== length) break;
    if (crc32(payload.subarray(0, layout.recordsAt)) !== bytes.readUInt32LE(at + 4)) break;
    const block = decodeBlock(payload, layout);
    if (block === undefined) break;
    blocks.push(block);
    at += FRAME + length;
    blockEnds.push(at);
  }
  return { header, blocks, blockEnds, headerBytes };
}

/** The runs of a block's head as [series, level, count] triples, and their checksums. */
export function runsOf(head: Buffer, layout: BlockLayout): { runs: Uint32Array; crcs: Uint32Array } {
  const runs = new Uint32Array(layout.runCount * RUN_FIELDS);
  const crcs = new Uint32Array(layout.runCount);
  for (let r = 0; r < layout.runCount; r++) {
    const e = layout.runsAt + r * RUN_ENTRY_BYTES;
    runs[r * RUN_FIELDS] = head.readUInt32LE(e);
    runs[r * RUN_FIELDS + 1] = head.readUInt32LE(e + 4);
    runs[r * RUN_FIELDS + 2] = head.readUInt32LE(e + 8);
    crcs[r] = head.readUInt32LE(e + 12);
  }
  return { runs, crcs };
}

/** The open buckets a block's head carries, or undefined when it carries none. */
export function stateOf(head: Buffer, layout: BlockLayout): IndexBlock['state'] {
  if ((head.readUInt32LE(20) & FLAG_STATE) === 0) return undefined;
  const children = new Uint32Array(layout.stateCount);
  for (let i = 0; i < layout.stateCount; i++) children[i] = head.readUInt32LE(layout.childrenAt + i * 4);
  return {
    open: Float64Array.from(float64sAt(head, layout.stateAt, layout.stateCount * RECORD_COLUMNS)),
    children,
  };
}

/** The malformed-line samples of a block's head. */
export function samplesOf(head: Buffer, layout: BlockLayout): MalformedLine[] {
  const from = FIXED + layout.defsLength;
  return (
    JSON.parse(head.toString('utf8', from, from + layout.malformedLength)) as [
      number,
      number,
      string,
      string,
    ][]
  ).map(([line, offset, field, reason]): MalformedLine => ({ line, offset, field, reason }));
}

/** The fixed fields of a block's head that are not about its layout. */
export function blockFields(head: Buffer): {
  end: number;
  resume: number;
  tailHash: number;
  final: boolean;
  malformedCount: number;
} {
  return {
    end: head.readDoubleLE(0),
    resume: head.readDoubleLE(8),
    tailHash: head.readUInt32LE(16),
    final: (head.readUInt32LE(20) & FLAG_FINAL) !== 0,
    malformedCount: head.readUInt32LE(32),
  };
}

/** A whole block, or undefined when a run's records fail their checksum. */
function decodeBlock(payload: Buffer, layout: BlockLayout): StoredBlock | undefined {
  const { runs, crcs } = runsOf(payload, layout);
  let at = layout.recordsAt;
  for (let r = 0; r < layout.runCount; r++) {
    const bytes = (runs[r * RUN_FIELDS + 2] as number) * RECORD_BYTES;
    if (crc32(payload.subarray(at, at + bytes)) !== crcs[r]) return undefined;
    at += bytes;
  }
  const defs = (
    JSON.parse(payload.toString('utf8', FIXED, FIXED + layout.defsLength)) as [
      number,
      string,
      string,
      string,
    ][]
  ).map(([id, run, phase, name]): SeriesDef => ({ id, run, phase, name }));
  const fields = blockFields(payload);
  const state = stateOf(payload, layout);
  return {
    end: fields.end,
    resume: fields.resume,
    tailHash: fields.tailHash,
    final: fields.final,
    defs,
    // A view of the bytes read: a 60 MB index is not copied (its header keeps records aligned).
    records: float64sAt(payload, layout.recordsAt, layout.records * RECORD_COLUMNS),
    runs,
    ...(state === undefined ? {} : { state }),
    malformed: { count: fields.malformedCount, samples: samplesOf(payload, layout) },
  };
}
