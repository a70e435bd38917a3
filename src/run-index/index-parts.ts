/**
 * Reads the parts of a scanned run index where they lie in the file (index-scan.ts walks it):
 * a block's series definitions, parsed a few thousand at a time; every record, a chunk at a time;
 * or the records at given offsets. A stream of a million names is read this way without holding
 * its 180 MB index (src/dashboard/catalog/).
 */
import fs from 'node:fs';
import { TelemetryError } from '../errors.js';
import { RECORD_BYTES, RECORD_COLUMNS } from './bucket-record.js';
import { CHUNK_BYTES, readExactly, type ScannedBlock } from './index-scan.js';

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
  if (block.defsJson !== undefined) {
    for (const [id, run, phase, name] of JSON.parse(block.defsJson.toString('utf8')) as [
      number,
      string,
      string,
      string,
    ][])
      onDef(id, run, phase, name);
    return;
  }
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
