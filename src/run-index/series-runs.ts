/**
 * One series' records of one level, read back from an index file by where its runs lie (one run
 * per block: record-runs.ts), each checked against the CRC-32 the index gave it when it was
 * opened. What the dashboard reads when a chart of a stream opened from its index is first asked
 * for (src/dashboard/deferred-series.ts): an index rewritten since answers INDEX_CHANGED.
 */
import fs from 'node:fs';
import { TelemetryError } from '../errors.js';
import { RECORD_BYTES } from './bucket-record.js';
import { crc32 } from './crc32.js';
import { readExactly, type ScannedIndex } from './index-scan.js';
import { RUN_FIELDS } from './record-runs.js';

/** One run in the index file: where its records start, how many, and their CRC-32. */
export interface RunPlace {
  at: number;
  count: number;
  crc: number;
}

/** Per series of `index` (by id, `series` of them), its runs at level `levels[id]`, in file order. */
export function runPlaces(index: ScannedIndex, levels: Int32Array, series: number): RunPlace[][] {
  const places: RunPlace[][] = Array.from({ length: series }, () => []);
  for (const block of index.blocks) {
    let first = 0;
    for (let r = 0, k = 0; r < block.runs.length; r += RUN_FIELDS, k++) {
      const id = block.runs[r] as number;
      const count = block.runs[r + 2] as number;
      if (id < series && block.runs[r + 1] === levels[id])
        (places[id] as RunPlace[]).push({
          at: block.recordsAt + first * RECORD_BYTES,
          count,
          crc: block.runCrcs[k] as number,
        });
      first += count;
    }
  }
  return places;
}

/**
 * The records of `places`, one after another, into the start of `into` (which must hold them);
 * INDEX_CHANGED when the file no longer holds them.
 */
export function readRuns(indexPath: string, places: readonly RunPlace[], into: Float64Array): void {
  let total = 0;
  for (const place of places) total += place.count;
  if (total === 0) return;
  const bytes = new Uint8Array(into.buffer, into.byteOffset, total * RECORD_BYTES);
  const changed = (): TelemetryError =>
    new TelemetryError(
      'INDEX_CHANGED',
      `${indexPath} changed since the dashboard opened its stream; restart the dashboard to read it again`,
    );
  let fd: number;
  try {
    fd = fs.openSync(indexPath, 'r');
  } catch {
    throw changed();
  }
  try {
    let at = 0;
    for (const place of places) {
      const run = bytes.subarray(at, at + place.count * RECORD_BYTES);
      if (readExactly(fd, run, place.at) < run.length || crc32(run) !== place.crc) throw changed();
      at += run.length;
    }
  } finally {
    fs.closeSync(fd);
  }
}
