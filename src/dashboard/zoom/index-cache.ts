/**
 * The run indexes a drag-zoom reads, one per stream file, split by series and level and kept
 * while they fit ZOOM_INDEX_CACHE_BYTES (least recently used dropped first). An entry is tied to
 * its file's inode, size and modification time: a file that grew or was replaced is loaded again
 * (src/run-index/stream-index.ts brings its index up to date by reading only the rows after it).
 */
import fs from 'node:fs';
import * as R from '../../run-index/bucket-record.js';
import { loadStreamIndexWithin } from '../../run-index/stream-index.js';

/** Index bytes kept between zooms: a 20-scalar × 1,000,000-step stream's index is about 60 MB. */
export const ZOOM_INDEX_CACHE_BYTES = 64 << 20;
/**
 * Stream bytes read to bring an index up to date for a zoom (a live file's rows past its last
 * block); past it the zoom draws the buckets the dashboard holds instead.
 */
export const ZOOM_INDEX_CATCH_UP_BYTES = 16 << 20;

/** One series' buckets in one file. */
export interface SeriesBuckets {
  /** Finished buckets of each level, in stream order. */
  levels: Float64Array[];
  /** Buckets still open, coarsest first (every row is in exactly one bucket of levels ≤ L). */
  open: Float64Array;
}

export interface FileIndex {
  path: string;
  /** By `run \0 phase \0 name`. */
  series: Map<string, SeriesBuckets>;
  bytes: number;
}

export function seriesKey(run: string, phase: string, name: string): string {
  return `${run}\u0000${phase}\u0000${name}`;
}

export class ZoomIndexCache {
  private readonly entries = new Map<string, { stamp: string; index: FileIndex }>();
  private held = 0;

  constructor(
    private readonly maxBytes = ZOOM_INDEX_CACHE_BYTES,
    private readonly catchUpBytes = ZOOM_INDEX_CATCH_UP_BYTES,
  ) {}

  /** The file's index, or undefined when bringing it up to date would read too much. */
  async get(file: string): Promise<FileIndex | undefined> {
    const stat = fs.statSync(file);
    const stamp = `${stat.ino}:${stat.size}:${stat.mtimeMs}`;
    const cached = this.entries.get(file);
    if (cached !== undefined) {
      this.entries.delete(file);
      if (cached.stamp === stamp) {
        this.entries.set(file, cached);
        return cached.index;
      }
      this.held -= cached.index.bytes;
    }
    const loaded = await loadStreamIndexWithin(file, { write: false, maxScanBytes: this.catchUpBytes });
    if (loaded === undefined) return undefined;
    const index = splitBySeries(
      file,
      loaded.defs,
      loaded.blocks.map((b) => b.records),
      loaded.open,
    );
    if (index.bytes <= this.maxBytes) {
      this.entries.set(file, { stamp, index });
      this.held += index.bytes;
      for (const [path, entry] of this.entries) {
        if (this.held <= this.maxBytes) break;
        this.entries.delete(path);
        this.held -= entry.index.bytes;
      }
    }
    return index;
  }
}

function splitBySeries(
  path: string,
  defs: readonly { run: string; phase: string; name: string }[],
  records: readonly Float64Array[],
  open: Float64Array,
): FileIndex {
  const counts = defs.map((): number[] => []);
  for (const d of records)
    for (let o = 0; o < d.length; o += R.RECORD_COLUMNS) {
      const byLevel = counts[d[o + R.SERIES] as number] as number[];
      const level = d[o + R.LEVEL] as number;
      byLevel[level] = (byLevel[level] ?? 0) + 1;
    }
  const levels = counts.map((byLevel) =>
    Array.from({ length: byLevel.length }, (_, l) => new Float64Array((byLevel[l] ?? 0) * R.RECORD_COLUMNS)),
  );
  const filled = counts.map((byLevel) => byLevel.map(() => 0));
  let bytes = open.byteLength;
  for (const d of records) {
    bytes += d.byteLength;
    for (let o = 0; o < d.length; o += R.RECORD_COLUMNS) {
      const id = d[o + R.SERIES] as number;
      const level = d[o + R.LEVEL] as number;
      const at = (filled[id] as number[])[level] as number;
      ((levels[id] as Float64Array[])[level] as Float64Array).set(d.subarray(o, o + R.RECORD_COLUMNS), at);
      (filled[id] as number[])[level] = at + R.RECORD_COLUMNS;
    }
  }
  const openBy = defs.map((): number[] => []);
  for (let o = 0; o < open.length; o += R.RECORD_COLUMNS)
    (openBy[open[o + R.SERIES] as number] as number[]).push(...open.subarray(o, o + R.RECORD_COLUMNS));
  const series = new Map<string, SeriesBuckets>();
  defs.forEach((def, id) =>
    series.set(seriesKey(def.run, def.phase, def.name), {
      levels: levels[id] as Float64Array[],
      open: Float64Array.from(openBy[id] as number[]),
    }),
  );
  return { path, series, bytes };
}
