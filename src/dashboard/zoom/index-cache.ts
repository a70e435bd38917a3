/**
 * The run-index buckets a drag-zoom reads, per stream file and series, split by level and kept
 * while they fit ZOOM_INDEX_CACHE_BYTES (least recently used dropped first). An entry is tied to
 * its file's inode, size and modification time: a file that grew or was replaced is loaded again
 * (src/run-index/stream-index.ts brings its index up to date by reading only the rows after it).
 * The dashboard hands over the indexes it opened a stream from (index-backlog.ts, `adopt`), so the
 * first zoom of a page does not read them again; they enter under the same bound as any load, and
 * are split by series only when a zoom first asks for that file: splitting a 60 MB index took
 * 120 ms, which the dashboard's start (time to the first render) should not pay.
 */
import fs from 'node:fs';
import * as R from '../../run-index/bucket-record.js';
import { LEVELS, readSelectedRuns } from '../../run-index/index-select.js';
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

/** What ties an entry to its file: a file that grew, was rewritten or replaced no longer matches. */
export function fileStamp(stat: fs.Stats): string {
  return `${stat.ino}:${stat.size}:${stat.mtimeMs}`;
}

/** An index as loaded (src/run-index/stream-index.ts): its series and buckets. */
export interface IndexBuckets {
  defs: readonly { run: string; phase: string; name: string }[];
  blocks: readonly { records: Float64Array }[];
  open: Float64Array;
}

export function seriesKey(run: string, phase: string, name: string): string {
  return `${run}\u0000${phase}\u0000${name}`;
}

interface Entry {
  stamp: string;
  /** undefined: the file holds no rows of the series. */
  buckets: SeriesBuckets | undefined;
  bytes: number;
}

/**
 * Entries are one series of one file, so a zoom on one chart keeps that chart's buckets however
 * many series share the file; loading a file's index fills in every series of it that fits.
 */
export class ZoomIndexCache {
  private readonly entries = new Map<string, Entry>();
  /** Indexes handed over and not split yet, by file; their bytes count in `held`. */
  private readonly adoptedFiles = new Map<string, { stamp: string; loaded: IndexBuckets; bytes: number }>();
  private held = 0;
  /** Entries dropped to stay within the bound (shown in `/api/index` as `zoom.indexDropped`). */
  dropped = 0;
  /** Index files read for a zoom (shown in `/api/index` as `zoom.indexLoads`). */
  loads = 0;
  /** Index files handed over by the dashboard's first read (`zoom.indexAdopted`). */
  adopted = 0;

  constructor(
    private readonly maxBytes = ZOOM_INDEX_CACHE_BYTES,
    private readonly catchUpBytes = ZOOM_INDEX_CATCH_UP_BYTES,
  ) {}

  /** Bytes of buckets held now (at most the bound given). */
  get heldBytes(): number {
    return this.held;
  }

  /**
   * The buckets of series `key` in `file` (null when the file has none of its rows), or undefined
   * when bringing the file's index up to date would read too much.
   */
  async get(file: string, key: string): Promise<SeriesBuckets | null | undefined> {
    const stamp = fileStamp(fs.statSync(file));
    const id = `${file}\u0000${key}`;
    const cached = this.entries.get(id);
    if (cached !== undefined && cached.stamp === stamp) {
      this.entries.delete(id);
      this.entries.set(id, cached);
      return cached.buckets ?? null;
    }
    const adopted = this.adoptedFiles.get(file);
    if (adopted !== undefined) {
      this.adoptedFiles.delete(file);
      this.held -= adopted.bytes;
      if (adopted.stamp === stamp) {
        const bySeries = this.keep(file, stamp, adopted.loaded, key);
        if (!bySeries.has(key)) this.put(id, stamp, undefined);
        return bySeries.get(key) ?? null;
      }
    }
    // An index that accounts for the whole file: only this series' runs are read.
    const selected = readSelectedRuns(file, (counts, defs) => {
      const wanted = new Uint8Array(counts.length);
      const at = defs.findIndex((def) => seriesKey(def.run, def.phase, def.name) === key);
      if (at >= 0) wanted.fill(1, at * LEVELS, (at + 1) * LEVELS);
      return wanted;
    });
    if (selected !== undefined) {
      this.loads++;
      const buckets = splitBySeries(selected.defs, selected.records, selected.open).get(key);
      this.put(id, stamp, buckets);
      return buckets ?? null;
    }
    const loaded = await loadStreamIndexWithin(file, { write: false, maxScanBytes: this.catchUpBytes });
    if (loaded === undefined) return undefined;
    this.loads++;
    const bySeries = this.keep(file, stamp, loaded, key);
    // A series the file holds no rows of is remembered too, so the next zoom does not load again.
    if (!bySeries.has(key)) this.put(id, stamp, undefined);
    return bySeries.get(key) ?? null;
  }

  /**
   * Keeps the buckets of `loaded`, read from `file` when it had `stamp` (taken BEFORE the load: a
   * file that grew during it then no longer matches, and is loaded again rather than zoomed short).
   */
  adopt(file: string, stamp: string, loaded: IndexBuckets): void {
    this.adopted++;
    const old = this.adoptedFiles.get(file);
    if (old !== undefined) this.held -= old.bytes;
    this.adoptedFiles.delete(file);
    const bytes =
      loaded.open.byteLength + loaded.blocks.reduce((n, block) => n + block.records.byteLength, 0);
    // Past the bound it would be dropped once split: a zoom loads it again instead.
    if (bytes > this.maxBytes) {
      this.dropped++;
      return;
    }
    this.adoptedFiles.set(file, { stamp, loaded, bytes });
    this.held += bytes;
    this.evict();
  }

  /** Every series of `loaded` as an entry; `last` goes in last (the most recently used, the last dropped). */
  private keep(file: string, stamp: string, loaded: IndexBuckets, last?: string): Map<string, SeriesBuckets> {
    const bySeries = splitBySeries(
      loaded.defs,
      loaded.blocks.map((b) => b.records),
      loaded.open,
    );
    for (const [k, buckets] of bySeries) if (k !== last) this.put(`${file}\u0000${k}`, stamp, buckets);
    if (last !== undefined && bySeries.has(last)) this.put(`${file}\u0000${last}`, stamp, bySeries.get(last));
    return bySeries;
  }

  private put(id: string, stamp: string, buckets: SeriesBuckets | undefined): void {
    const old = this.entries.get(id);
    if (old !== undefined) {
      this.entries.delete(id);
      this.held -= old.bytes;
    }
    const bytes =
      buckets === undefined
        ? 0
        : buckets.open.byteLength + buckets.levels.reduce((n, l) => n + l.byteLength, 0);
    if (bytes > this.maxBytes) {
      this.dropped++;
      return;
    }
    this.entries.set(id, { stamp, buckets, bytes });
    this.held += bytes;
    this.evict();
  }

  /** Drops indexes not split yet, then least recently used entries, until the bound holds. */
  private evict(): void {
    for (const [file, adopted] of this.adoptedFiles) {
      if (this.held <= this.maxBytes) return;
      this.adoptedFiles.delete(file);
      this.held -= adopted.bytes;
      this.dropped++;
    }
    for (const [oldest, entry] of this.entries) {
      if (this.held <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.held -= entry.bytes;
      this.dropped++;
    }
  }
}

function splitBySeries(
  defs: readonly { run: string; phase: string; name: string }[],
  records: readonly Float64Array[],
  open: Float64Array,
): Map<string, SeriesBuckets> {
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
  for (const d of records) {
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
  return series;
}
