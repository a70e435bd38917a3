/**
 * Walks a run index file without loading it: the header and each block's head are read and
 * checked (its CRC-32; with `all`, every run's records too, a chunk at a time), and the caller
 * reads the series definitions and bucket records it needs where they lie in the file
 * (index-parts.ts, index-select.ts). A reader of a stream with a million names (a 180 MB index)
 * then holds a chunk at a time, not the decoded index and a builder state per series (2.2 GB at a
 * million names; src/dashboard/catalog/). The checks are those of stream-index.ts `validBlocks`:
 * a torn block ends the list, a stale index (another inode, head or tail) gives undefined.
 */
import { crc32 } from './crc32.js';
import fs from 'node:fs';
import os from 'node:os';
import { errnoCode } from '../errors.js';
import { RECORD_BYTES } from './bucket-record.js';
import {
  BLOCK_FIXED_BYTES,
  BLOCK_FRAME_BYTES,
  blockFields,
  blockLayout,
  FLAG_STATE,
  MAGIC,
  runsOf,
  samplesOf,
  stateOf,
  type IndexHeader,
} from './index-codec.js';
import type { OpenState } from './index-builder.js';
import { RUN_FIELDS } from './record-runs.js';
import { hashRange, tailHash } from './index-file.js';
import type { MalformedLine } from '../ndjson/line/metric-visitor.js';

/** Bytes read at a time (checksums, definitions, records). */
export const CHUNK_BYTES = 4 << 20;
/** A block head up to this size is read in one piece (definitions, runs, state, samples). */
const WHOLE_HEAD_BYTES = 1 << 20;

export interface ScannedBlock {
  end: number;
  resume: number;
  final: boolean;
  /** File offset of the block's definitions JSON, and its length. */
  defsAt: number;
  defsLength: number;
  /** The definitions JSON itself, when the block's head was read whole. */
  defsJson?: Buffer;
  malformedCount: number;
  malformedSamples: MalformedLine[];
  /** File offset of the block's first record, and how many records it holds. */
  recordsAt: number;
  records: number;
  /** The records' runs, [series, level, count] each (record-runs.ts), and each run's CRC-32. */
  runs: Uint32Array;
  runCrcs: Uint32Array;
  /** The open buckets a reader's block carries (read for the last block only). */
  state?: OpenState;
}

export interface ScannedIndex {
  path: string;
  header: IndexHeader;
  blocks: ScannedBlock[];
}

export function readExactly(fd: number, bytes: Uint8Array, position: number): number {
  let at = 0;
  while (at < bytes.length) {
    const n = fs.readSync(fd, bytes, at, bytes.length - at, position + at);
    if (n === 0) break;
    at += n;
  }
  return at;
}

/**
 * How much of each block scanIndex checks: `all` every checksum (the head and every run's
 * records), `head` the head's (runs are checked as they are read, see index-select.ts), `none`
 * only the frames, and the malformed-line samples are not read: only to size an index up cheaply.
 */
export type ScanChecks = 'all' | 'head' | 'none';

/**
 * The blocks of `candidate` that describe the stream open at `streamFd`, or undefined when the file
 * is missing, torn in its header, stale, or the machine is big-endian (records are read in place).
 */
export function scanIndex(
  candidate: string,
  streamFd: number,
  checks: ScanChecks = 'all',
): ScannedIndex | undefined {
  if (os.endianness() !== 'LE') return undefined;
  let fd: number;
  try {
    fd = fs.openSync(candidate, 'r');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const size = fs.fstatSync(fd).size;
    const head = Buffer.alloc(MAGIC.length + 8);
    if (readExactly(fd, head, 0) < head.length || !head.subarray(0, MAGIC.length).equals(MAGIC))
      return undefined;
    const jsonLength = head.readUInt32LE(MAGIC.length);
    const headerBytes = head.length + jsonLength;
    if (headerBytes > size) return undefined;
    const json = Buffer.alloc(jsonLength);
    readExactly(fd, json, head.length);
    if (crc32(json) !== head.readUInt32LE(MAGIC.length + 4)) return undefined;
    const header = JSON.parse(json.toString('utf8')) as IndexHeader;
    const stat = fs.fstatSync(streamFd);
    // Sizing only (`none`): the stream is not read, as the scan that follows checks it.
    if (checks !== 'none') {
      if (stat.ino !== header.inode || stat.size < header.headLength) return undefined;
      if (hashRange(streamFd, 0, header.headLength) !== header.headHash) return undefined;
    }
    const blocks: ScannedBlock[] = [];
    const tails: number[] = [];
    let at = headerBytes;
    let lastStateAt = -1;
    while (at + BLOCK_FRAME_BYTES + BLOCK_FIXED_BYTES <= size) {
      const frame = Buffer.alloc(BLOCK_FRAME_BYTES + BLOCK_FIXED_BYTES);
      readExactly(fd, frame, at);
      const length = frame.readUInt32LE(0);
      const payloadAt = at + BLOCK_FRAME_BYTES;
      const fixed = frame.subarray(BLOCK_FRAME_BYTES);
      const layout = blockLayout(fixed);
      if (length !== layout.length || payloadAt + length > size) break;
      // A head of the usual size (a few dozen series) is read in one piece and everything is
      // taken from it; a big one (a million names) is walked in chunks and its definitions left
      // in the file.
      let whole: Buffer | undefined;
      if (checks !== 'none' && layout.recordsAt <= WHOLE_HEAD_BYTES) {
        whole = Buffer.alloc(layout.recordsAt);
        readExactly(fd, whole, payloadAt);
      }
      if (checks !== 'none') {
        const crc = whole === undefined ? crcOf(fd, payloadAt, layout.recordsAt) : crc32(whole);
        if (crc !== frame.readUInt32LE(4)) break;
      }
      let runBytes = whole?.subarray(layout.runsAt, layout.stateAt);
      if (runBytes === undefined) {
        runBytes = Buffer.alloc(layout.stateAt - layout.runsAt);
        readExactly(fd, runBytes, payloadAt + layout.runsAt);
      }
      const { runs, crcs } = runsOf(runBytes, { ...layout, runsAt: 0 });
      if (countOf(runs) !== layout.records) break;
      if (checks === 'all' && !runsIntact(fd, payloadAt + layout.recordsAt, runs, crcs)) break;
      let samples: MalformedLine[] = [];
      // Unchecked, the samples are not parsed: a torn block's may not be JSON.
      if (whole !== undefined) samples = samplesOf(whole, layout);
      else if (checks !== 'none') {
        const text = Buffer.alloc(BLOCK_FIXED_BYTES + layout.defsLength + layout.malformedLength);
        fixed.copy(text);
        readExactly(
          fd,
          text.subarray(BLOCK_FIXED_BYTES + layout.defsLength),
          payloadAt + BLOCK_FIXED_BYTES + layout.defsLength,
        );
        samples = samplesOf(text, layout);
      }
      const fields = blockFields(fixed);
      const state = whole === undefined ? undefined : stateOf(whole, layout);
      blocks.push({
        end: fields.end,
        resume: fields.resume,
        final: fields.final,
        defsAt: payloadAt + BLOCK_FIXED_BYTES,
        defsLength: layout.defsLength,
        ...(whole === undefined
          ? {}
          : { defsJson: whole.subarray(BLOCK_FIXED_BYTES, BLOCK_FIXED_BYTES + layout.defsLength) }),
        malformedCount: fields.malformedCount,
        malformedSamples: samples,
        recordsAt: payloadAt + layout.recordsAt,
        records: layout.records,
        runs,
        runCrcs: crcs,
        ...(state === undefined ? {} : { state }),
      });
      tails.push(fields.tailHash);
      if ((fixed.readUInt32LE(20) & FLAG_STATE) !== 0) lastStateAt = blocks.length - 1;
      at = payloadAt + length;
    }
    // Blocks past the stream's end describe bytes it no longer has (a truncated stream).
    let kept = 0;
    while (kept < blocks.length && (blocks[kept] as ScannedBlock).end <= stat.size) kept++;
    const last = blocks[kept - 1];
    if (checks !== 'none' && last !== undefined && tailHash(streamFd, last.end) !== tails[kept - 1])
      return undefined;
    if (last !== undefined && lastStateAt === kept - 1) last.state ??= readState(fd, last);
    return { path: candidate, header, blocks: blocks.slice(0, kept) };
  } finally {
    fs.closeSync(fd);
  }
}

function countOf(runs: Uint32Array): number {
  let count = 0;
  for (let r = 2; r < runs.length; r += RUN_FIELDS) count += runs[r] as number;
  return count;
}

/** CRC-32 of the file's bytes [at, at + length), read a chunk at a time. */
function crcOf(fd: number, at: number, length: number): number {
  const chunk = Buffer.alloc(Math.min(CHUNK_BYTES, length));
  let crc = 0;
  for (let done = 0; done < length;) {
    const n = readExactly(fd, chunk.subarray(0, Math.min(CHUNK_BYTES, length - done)), at + done);
    if (n === 0) return -1;
    crc = crc32(chunk.subarray(0, n), crc);
    done += n;
  }
  return crc;
}

/** Whether every run's records, from file offset `at` on, match their CRC-32. */
function runsIntact(fd: number, at: number, runs: Uint32Array, crcs: Uint32Array): boolean {
  for (let r = 0; r < crcs.length; r++) {
    const bytes = (runs[r * RUN_FIELDS + 2] as number) * RECORD_BYTES;
    if (crcOf(fd, at, bytes) !== crcs[r]) return false;
    at += bytes;
  }
  return true;
}

/** The open buckets of a reader's block, read back from its head (after the block was checked). */
function readState(fd: number, block: ScannedBlock): OpenState | undefined {
  const payloadAt = block.defsAt - BLOCK_FIXED_BYTES;
  const fixed = Buffer.alloc(BLOCK_FIXED_BYTES);
  readExactly(fd, fixed, payloadAt);
  const layout = blockLayout(fixed);
  // The state's bytes only, not the definitions before them (a first block can define many series).
  const bytes = Buffer.alloc(layout.recordsAt - layout.stateAt);
  readExactly(fd, bytes, payloadAt + layout.stateAt);
  const head = Buffer.concat([fixed, bytes]);
  return stateOf(head, {
    ...layout,
    stateAt: BLOCK_FIXED_BYTES,
    childrenAt: BLOCK_FIXED_BYTES + layout.childrenAt - layout.stateAt,
  });
}
