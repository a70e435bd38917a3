/**
 * Reads part of a run index: the heads of its blocks (definitions, runs, the last block's open
 * buckets), then only the runs the caller picks from each series' bucket counts per level, each
 * checked against its CRC-32. The dashboard's first render asks for about one bucket per pixel
 * column of each series, which at 20 scalars × 1,000,000 steps is 3 MB of a 62 MB index; a zoom
 * asks for one series.
 *
 * This works when the index accounts for the whole stream (its last block is final, or carries
 * its open buckets, and no whole line follows it): undefined otherwise, and the caller loads the
 * index whole (stream-index.ts), which reads the rows after it and appends a block.
 */
import fs from 'node:fs';
import { crc32 } from './crc32.js';
import { errnoCode } from '../errors.js';
import type { MalformedLine } from '../ndjson/line/metric-visitor.js';
import { wholeLinesEnd } from '../ndjson/split-points.js';
import { RECORD_BYTES, RECORD_COLUMNS } from './bucket-record.js';
import type { SeriesDef } from './index-builder.js';
import { indexCandidates } from './index-path.js';
import { forEachDef } from './index-parts.js';
import { scanIndex, type ScannedIndex } from './index-scan.js';
import { RUN_FIELDS } from './record-runs.js';

/** Levels a series can have (index-builder.ts MAX_LEVELS). */
export const LEVELS = 12;

/** Gaps between wanted runs up to this are read through, not sought over. */
const GAP_BYTES = 64 << 10;

export interface SelectedRuns {
  /** The index file read. */
  path: string;
  /** Its blocks' heads, as read (where every run lies: series-runs.ts reads one series' again). */
  index: ScannedIndex;
  defs: SeriesDef[];
  /** The picked runs' records, a few arrays (one per read). */
  records: Float64Array[];
  /** Every open bucket the index's last block carries (none when it is final). */
  open: Float64Array;
  /** Stream bytes the index accounts for. */
  end: number;
  /** Index bytes read. */
  bytesRead: number;
  malformed: { count: number; samples: MalformedLine[] };
}

/**
 * Which runs to read: `counts[id * LEVELS + level]` is how many finished buckets series `id` has
 * at `level`, and `blocks` how many blocks the index has (a series has a run in each); answer, in
 * the same places, 1 for a wanted level.
 */
export type RunPicker = (counts: Int32Array, defs: readonly SeriesDef[], blocks: number) => Uint8Array;

/**
 * Where the picked runs' records are read to: by default new arrays the caller keeps; a
 * RecordScratch for a caller that is done with them before its next read.
 */
export interface RecordSpace {
  /** Room for `columns` float64 values, not shared with any other taken in this read. */
  take(columns: number): Float64Array;
}

/**
 * One buffer that every read reuses: a first render converts each stream's records into series
 * states at once, and 100 runs' records (140 MB at 100,000 steps each) in new arrays were as many
 * bytes to zero and collect. Its views are valid until the next read (`reset`) takes it again. A
 * buffer past MAX_KEPT_BYTES is not kept between reads.
 */
export class RecordScratch implements RecordSpace {
  static readonly MAX_KEPT_BYTES = 16 << 20;
  private buffer = new Float64Array(0);
  private used = 0;

  /** Starts a read: views handed out before are given up. */
  reset(): this {
    if (this.buffer.byteLength > RecordScratch.MAX_KEPT_BYTES) this.buffer = new Float64Array(0);
    this.used = 0;
    return this;
  }

  take(columns: number): Float64Array {
    if (this.used + columns > this.buffer.length) {
      // Views taken before keep the old buffer; this read goes on in a new one.
      this.buffer = new Float64Array(Math.max(columns, 2 * this.buffer.length));
      this.used = 0;
    }
    const view = this.buffer.subarray(this.used, this.used + columns);
    this.used += columns;
    return view;
  }
}

const NEW_ARRAYS: RecordSpace = { take: (columns) => new Float64Array(columns) };

export function readSelectedRuns(
  stream: string,
  pick: RunPicker,
  env: NodeJS.ProcessEnv = process.env,
  space: RecordSpace = NEW_ARRAYS,
): SelectedRuns | undefined {
  if (stream.endsWith('.gz')) return undefined;
  let streamFd: number;
  try {
    streamFd = fs.openSync(stream, 'r');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw error;
  }
  try {
    let index: ScannedIndex | undefined;
    for (const candidate of indexCandidates(stream, env)) {
      index = scanIndex(candidate, streamFd, 'head');
      if (index !== undefined) break;
    }
    const last = index?.blocks.at(-1);
    if (index === undefined || last === undefined) return undefined;
    if (!last.final && last.state === undefined) return undefined;
    if (wholeLinesEnd(streamFd, fs.fstatSync(streamFd).size) !== last.end) return undefined;
    return readPicked(index, pick, last.state?.open ?? new Float64Array(0), space);
  } finally {
    fs.closeSync(streamFd);
  }
}

function readPicked(
  index: ScannedIndex,
  pick: RunPicker,
  open: Float64Array,
  space: RecordSpace,
): SelectedRuns | undefined {
  const defs: SeriesDef[] = [];
  for (const block of index.blocks)
    forEachDef(index.path, block, (id, run, phase, name) => defs.push({ id, run, phase, name }));
  const counts = new Int32Array(defs.length * LEVELS);
  for (const block of index.blocks)
    for (let r = 0; r < block.runs.length; r += RUN_FIELDS) {
      const level = block.runs[r + 1] as number;
      if (level < LEVELS) counts[(block.runs[r] as number) * LEVELS + level] += block.runs[r + 2] as number;
    }
  const wanted = pick(counts, defs, index.blocks.length);
  const records: Float64Array[] = [];
  let bytesRead = 0;
  const fd = fs.openSync(index.path, 'r');
  try {
    for (const block of index.blocks) {
      // Runs in file order: [first record, count, crc] of the wanted ones, read in spans.
      let spanFirst = -1;
      let spanEnd = 0;
      let spanRuns: number[] = [];
      const flush = (): boolean => {
        if (spanFirst < 0) return true;
        const data = space.take((spanEnd - spanFirst) * RECORD_COLUMNS);
        const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
        if (
          fs.readSync(fd, bytes, 0, bytes.length, block.recordsAt + spanFirst * RECORD_BYTES) !== bytes.length
        )
          return false;
        bytesRead += bytes.length;
        for (let k = 0; k < spanRuns.length; k += 3) {
          const at = ((spanRuns[k] as number) - spanFirst) * RECORD_BYTES;
          const length = (spanRuns[k + 1] as number) * RECORD_BYTES;
          if (crc32(bytes.subarray(at, at + length)) !== spanRuns[k + 2]) return false;
          records.push(data.subarray(at / 8, (at + length) / 8));
        }
        spanFirst = -1;
        spanRuns = [];
        return true;
      };
      let first = 0;
      for (let r = 0, k = 0; r < block.runs.length; r += RUN_FIELDS, k++) {
        const series = block.runs[r] as number;
        const level = block.runs[r + 1] as number;
        const count = block.runs[r + 2] as number;
        if (level < LEVELS && wanted[series * LEVELS + level] === 1) {
          if (spanFirst >= 0 && (first - spanEnd) * RECORD_BYTES > GAP_BYTES && !flush()) return undefined;
          if (spanFirst < 0) spanFirst = first;
          spanEnd = first + count;
          spanRuns.push(first, count, block.runCrcs[k] as number);
        }
        first += count;
      }
      if (!flush()) return undefined;
    }
  } finally {
    fs.closeSync(fd);
  }
  let count = 0;
  const samples: MalformedLine[] = [];
  for (const block of index.blocks) {
    count += block.malformedCount;
    samples.push(...block.malformedSamples);
  }
  return {
    path: index.path,
    index,
    defs,
    records,
    open,
    end: (index.blocks.at(-1) as { end: number }).end,
    bytesRead,
    malformed: { count, samples },
  };
}
