/**
 * Walks a run index file without loading it: the header and each block's fixed fields are read,
 * each block's checksum is taken over its payload in chunks, and the caller reads the series
 * definitions and bucket records it needs, where they lie in the file. A reader of a stream with a
 * million names (a 180 MB index) then holds a chunk at a time, not the decoded index and a builder
 * state per series (2.2 GB at a million names; src/dashboard/catalog/). The checks are those of
 * stream-index.ts `validBlocks`: a torn block ends the list, a stale index (another inode, head or
 * tail) gives undefined.
 */
import { crc32 } from '@node-rs/crc32';
import fs from 'node:fs';
import os from 'node:os';
import { errnoCode, TelemetryError } from '../errors.js';
import { RECORD_BYTES, RECORD_COLUMNS } from './bucket-record.js';
import { BLOCK_FIXED_BYTES, BLOCK_FRAME_BYTES, MAGIC, type IndexHeader } from './index-codec.js';
import { hashRange, tailHash } from './index-file.js';
import type { MalformedLine } from '../ndjson/line/metric-visitor.js';

/** Bytes read at a time (checksums, definitions, records). */
const CHUNK_BYTES = 4 << 20;

export interface ScannedBlock {
  end: number;
  resume: number;
  final: boolean;
  /** File offset of the block's definitions JSON, and its length. */
  defsAt: number;
  defsLength: number;
  malformedCount: number;
  malformedSamples: MalformedLine[];
  /** File offset of the block's first record, and how many records it holds. */
  recordsAt: number;
  records: number;
}

export interface ScannedIndex {
  path: string;
  header: IndexHeader;
  blocks: ScannedBlock[];
}

function readExactly(fd: number, bytes: Uint8Array, position: number): number {
  let at = 0;
  while (at < bytes.length) {
    const n = fs.readSync(fd, bytes, at, bytes.length - at, position + at);
    if (n === 0) break;
    at += n;
  }
  return at;
}

/**
 * The blocks of `candidate` that describe the stream open at `streamFd`, or undefined when the file
 * is missing, torn in its header, stale, or the machine is big-endian (records are read in place).
 * Without `checksums`, blocks are taken as framed and their malformed-line samples are not read:
 * only to size an index up cheaply.
 */
export function scanIndex(candidate: string, streamFd: number, checksums = true): ScannedIndex | undefined {
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
    if (stat.ino !== header.inode || stat.size < header.headLength) return undefined;
    if (hashRange(streamFd, 0, header.headLength) !== header.headHash) return undefined;
    const blocks: ScannedBlock[] = [];
    const tails: number[] = [];
    const chunk = Buffer.alloc(CHUNK_BYTES);
    let at = headerBytes;
    while (at + BLOCK_FRAME_BYTES <= size) {
      const frame = Buffer.alloc(BLOCK_FRAME_BYTES);
      readExactly(fd, frame, at);
      const length = frame.readUInt32LE(0);
      const payloadAt = at + BLOCK_FRAME_BYTES;
      if (length < BLOCK_FIXED_BYTES || payloadAt + length > size) break;
      if (checksums) {
        let crc = 0;
        for (let done = 0; done < length;) {
          const n = readExactly(
            fd,
            chunk.subarray(0, Math.min(CHUNK_BYTES, length - done)),
            payloadAt + done,
          );
          crc = crc32(chunk.subarray(0, n), crc);
          done += n;
        }
        if (crc !== frame.readUInt32LE(4)) break;
      }
      const fixed = Buffer.alloc(BLOCK_FIXED_BYTES);
      readExactly(fd, fixed, payloadAt);
      const defsLength = fixed.readUInt32LE(24);
      const malformedLength = fixed.readUInt32LE(36);
      // Unchecked, the samples are not parsed: a torn block's may not be JSON.
      const malformedJson = checksums ? Buffer.alloc(malformedLength) : Buffer.from('[]');
      if (checksums) readExactly(fd, malformedJson, payloadAt + BLOCK_FIXED_BYTES + defsLength);
      const samples = (JSON.parse(malformedJson.toString('utf8')) as [number, number, string, string][]).map(
        ([line, offset, field, reason]): MalformedLine => ({ line, offset, field, reason }),
      );
      blocks.push({
        end: fixed.readDoubleLE(0),
        resume: fixed.readDoubleLE(8),
        final: (fixed.readUInt32LE(20) & 1) === 1,
        defsAt: payloadAt + BLOCK_FIXED_BYTES,
        defsLength,
        malformedCount: fixed.readUInt32LE(32),
        malformedSamples: samples,
        recordsAt: payloadAt + BLOCK_FIXED_BYTES + Math.ceil((defsLength + malformedLength) / 8) * 8,
        records: fixed.readUInt32LE(28),
      });
      tails.push(fixed.readUInt32LE(16));
      at = payloadAt + length;
    }
    // Blocks past the stream's end describe bytes it no longer has (a truncated stream).
    let kept = 0;
    while (kept < blocks.length && (blocks[kept] as ScannedBlock).end <= stat.size) kept++;
    const last = blocks[kept - 1];
    if (last !== undefined && tailHash(streamFd, last.end) !== tails[kept - 1]) return undefined;
    return { path: candidate, header, blocks: blocks.slice(0, kept) };
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Series definitions of a block, in order: read a chunk at a time and parsed a few thousand
 * entries at a time (cut between top-level entries, outside strings), so a block defining a
 * million series never becomes one 40 MB string and a million arrays.
 */
export function forEachDef(
  indexPath: string,
  block: ScannedBlock,
  onDef: (id: number, run: string, phase: string, name: string) => void,
  chunkBytes = CHUNK_BYTES,
): void {
  const fd = fs.openSync(indexPath, 'r');
  try {
    let carry = Buffer.alloc(0);
    let depth = 0;
    let inString = false;
    let escaped = false;
    /** A cut just before a comma that is the next chunk's first byte: skip it. */
    let skip = 0;
    const parse = (bytes: Buffer, from: number, to: number): void => {
      if (to <= from) return;
      for (const [id, run, phase, name] of JSON.parse(`[${bytes.toString('utf8', from, to)}]`) as [
        number,
        string,
        string,
        string,
      ][])
        onDef(id, run, phase, name);
    };
    for (let done = 0; done < block.defsLength;) {
      const chunk = Buffer.alloc(Math.min(chunkBytes, block.defsLength - done));
      const n = readExactly(fd, chunk, block.defsAt + done);
      if (n === 0) throw new Error(`${indexPath} ends inside its series definitions`);
      done += n;
      const bytes = carry.length === 0 ? chunk.subarray(0, n) : Buffer.concat([carry, chunk.subarray(0, n)]);
      // The outer `[` is skipped with the first byte; entries start after it.
      const first = done === n;
      let from = first ? 1 : carry.length === 0 ? skip : 0;
      for (let i = first ? 1 : carry.length; i < bytes.length; i++) {
        const c = bytes[i] as number;
        if (inString) {
          if (escaped) escaped = false;
          else if (c === 0x5c) escaped = true;
          else if (c === 0x22) inString = false;
          continue;
        }
        if (c === 0x22) inString = true;
        else if (c === 0x5b) depth++;
        else if (c === 0x5d) {
          if (depth === 0) {
            // The outer `]`: the last entries.
            parse(bytes, from, i);
            from = bytes.length;
            break;
          }
          depth--;
          if (depth === 0 && i + 1 - from >= Math.min(1 << 20, chunkBytes)) {
            parse(bytes, from, i + 1);
            from = i + 2; // past the comma
          }
        }
      }
      skip = Math.max(0, from - bytes.length);
      carry = Buffer.from(bytes.subarray(Math.min(from, bytes.length)));
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** Every record of the blocks, a chunk at a time: `d` holds it at `o`, found at file offset `at`. */
export function forEachRecord(
  indexPath: string,
  blocks: readonly ScannedBlock[],
  onRecord: (d: Float64Array, o: number, at: number) => void,
): void {
  const perChunk = Math.floor(CHUNK_BYTES / RECORD_BYTES);
  const d = new Float64Array(perChunk * RECORD_COLUMNS);
  const bytes = new Uint8Array(d.buffer);
  const fd = fs.openSync(indexPath, 'r');
  try {
    for (const block of blocks)
      for (let first = 0; first < block.records; first += perChunk) {
        const count = Math.min(perChunk, block.records - first);
        const at = block.recordsAt + first * RECORD_BYTES;
        readExactly(fd, bytes.subarray(0, count * RECORD_BYTES), at);
        for (let r = 0; r < count; r++) onRecord(d, r * RECORD_COLUMNS, at + r * RECORD_BYTES);
      }
  } finally {
    fs.closeSync(fd);
  }
}

/** Reads the records at the given file offsets (one series' buckets) into one array. */
export function readRecordsAt(indexPath: string, offsets: ArrayLike<number>): Float64Array {
  const out = new Float64Array(offsets.length * RECORD_COLUMNS);
  const bytes = new Uint8Array(out.buffer);
  const fd = fs.openSync(indexPath, 'r');
  try {
    for (let i = 0; i < offsets.length; i++) {
      const into = bytes.subarray(i * RECORD_BYTES, (i + 1) * RECORD_BYTES);
      if (readExactly(fd, into, offsets[i] as number) < RECORD_BYTES)
        throw new TelemetryError(
          'INDEX_CHANGED',
          `${indexPath} is shorter than when it was opened; restart the dashboard to read it again`,
        );
    }
  } finally {
    fs.closeSync(fd);
  }
  return out;
}
