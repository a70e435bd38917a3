/**
 * The series of one stream with very many names, held as names and the places of their buckets:
 * the chart names sorted in one UTF-8 table (a Buffer and offsets), and per series its run, phase,
 * and the file offsets of its level-0 records in the stream's run index (plus, in memory, the
 * buckets of the rows after the index). A series costs about 40 bytes here, not the 1.5 KB of a
 * held one; its buckets are read back only when a chart of it is asked for (catalog-charts.ts), and
 * again by a drag-zoom of it, whose exact rows lie where those buckets say (../zoom/zoom-reader.ts).
 */
import fs from 'node:fs';
import { recordsToState } from '../index-buckets.js';
import { BucketSeries, type BucketSeriesState } from '../bucket-series.js';
import { RECORD_COLUMNS, SERIES, LEVEL } from '../../run-index/bucket-record.js';
import { readRecordsAt } from '../../run-index/index-parts.js';
import { errnoCode, TelemetryError } from '../../errors.js';
import type { SeriesOrigin } from '../zoom/series-origin.js';

/** Flag bits of a series: its rows' phase is eval; its name began with `eval/` (an eval chart). */
export const FLAG_EVAL_PHASE = 1;
export const FLAG_EVAL_PREFIX = 2;

export interface CatalogParts {
  activePath: string;
  /** The stream's inode, and where its rows read at the open end (a zoom checks it is that file). */
  inode: number;
  end: number;
  rank: number;
  indexPath: string;
  /** Sorted chart names: name p is text[starts[p], starts[p + 1]), of series ids[p]. */
  text: Buffer;
  starts: Uint32Array;
  ids: Uint32Array;
  /** Per series id: index into runIds / runNames, and flags. */
  runOf: Uint16Array;
  flags: Uint8Array;
  /** The rows' run ids ('' for none) and the run names the page shows for them. */
  runIds: string[];
  runNames: string[];
  /** Per series id: its record offsets are locations[locationStart[id], locationStart[id + 1]). */
  locationStart: Uint32Array;
  locations: Float64Array;
  /** Buckets (index records) of rows after the index, by series id. */
  tail: TailRecords;
}

/** The buckets of the rows read after the index. */
export interface TailRecords {
  /** Series `id`'s buckets in stream order, or undefined when it had no row after the index. */
  of(id: number): Float64Array | undefined;
}

export interface CatalogSeries {
  runId: string;
  run: string;
  phase: 'train' | 'eval';
  /** The name as logged (with its `eval/` prefix, when it had one). */
  name: string;
}

export class StreamCatalog {
  readonly activePath: string;
  readonly rank: number;
  /** Per run name, its training series with the most points (and how many), for run-clock.ts. */
  densest = new Map<string, { id: number; points: number }>();
  /** Those series read back, once each (a run's clock is asked for on every system chart). */
  private readonly densestRead = new Map<number, BucketSeries>();
  constructor(private readonly parts: CatalogParts) {
    this.activePath = parts.activePath;
    this.rank = parts.rank;
  }

  /** Series listed (one chart name each; names shared by two series are listed twice here). */
  get size(): number {
    return this.parts.ids.length;
  }

  /** The run names this stream's series belong to. */
  get runNames(): readonly string[] {
    return this.parts.runNames;
  }

  /** Chart name at sorted position p. */
  metricAt(p: number): string {
    const { text, starts } = this.parts;
    return text.toString('utf8', starts[p] as number, starts[p + 1] as number);
  }

  /** The sorted positions [from, to) whose chart name is `metric`. */
  find(metric: string): [number, number] {
    const key = Buffer.from(metric);
    const { text, starts } = this.parts;
    const from = lowerBound(text, starts, key, false);
    return [from, lowerBound(text, starts, key, true, from)];
  }

  has(metric: string): boolean {
    const [from, to] = this.find(metric);
    return to > from;
  }

  /** The series id at sorted position p. */
  idAt(p: number): number {
    return this.parts.ids[p] as number;
  }

  /** The series at sorted position p. */
  describeAt(p: number): CatalogSeries {
    const { runOf, flags, runIds, runNames } = this.parts;
    const id = this.idAt(p);
    const run = runOf[id] as number;
    const flag = flags[id] as number;
    const metric = this.metricAt(p);
    return {
      runId: runIds[run] as string,
      run: runNames[run] as string,
      phase: flag & FLAG_EVAL_PHASE ? 'eval' : 'train',
      name: flag & FLAG_EVAL_PREFIX ? `eval/${metric}` : metric,
    };
  }

  /** `run`'s training series with the most points, read back; undefined when it has none here. */
  densestTrain(run: string): BucketSeries | undefined {
    const best = this.densest.get(run);
    if (best === undefined) return undefined;
    let series = this.densestRead.get(best.id);
    if (series === undefined) {
      series = new BucketSeries();
      series.append(this.state(best.id));
      this.densestRead.set(best.id, series);
    }
    return series;
  }

  /** A series' buckets, read back from the index and the rows after it (see levelZero). */
  state(id: number): BucketSeriesState {
    return recordsToState(Array.from(this.levelZero(id)));
  }

  /**
   * A series' level-0 records: its index's (read back by offset, in stream order), then those of
   * the rows after the index. Throws when the index no longer holds them where it did (rewritten).
   */
  levelZero(id: number): Float64Array {
    const { locationStart, locations, indexPath, tail } = this.parts;
    const offsets = locations.subarray(locationStart[id] as number, locationStart[id + 1] as number);
    const stored = readRecordsAt(indexPath, offsets);
    for (let o = 0; o < stored.length; o += RECORD_COLUMNS)
      if (stored[o + SERIES] !== id || stored[o + LEVEL] !== 0)
        throw new TelemetryError(
          'INDEX_CHANGED',
          `${indexPath} was rewritten since the dashboard opened ${this.activePath}; restart the dashboard to read it again`,
        );
    const after = tail.of(id);
    if (after === undefined) return stored;
    const all = new Float64Array(stored.length + after.length);
    all.set(stored);
    all.set(after, stored.length);
    return all;
  }

  /**
   * Where a drag-zoom reads series `id` (../zoom/zoom-reader.ts): the rows its level-0 buckets
   * span, read by offset from the stream, as long as the stream is the file the catalog read.
   */
  zoomOrigin(id: number, series: { runId: string; phase: string; name: string }): SeriesOrigin {
    return {
      activePath: this.activePath,
      runId: series.runId,
      phase: series.phase,
      name: series.name,
      catalog: { levelZero: () => (this.sameStream() ? this.levelZero(id) : undefined) },
    };
  }

  /** Whether the stream is the file opened, grown or not: a replaced or cut one is not. */
  private sameStream(): boolean {
    try {
      const stat = fs.statSync(this.activePath);
      return stat.ino === this.parts.inode && stat.size >= this.parts.end;
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return false;
      throw error;
    }
  }
}

/** Compares bytes [a0, a1) of `x` with [b0, b1) of `y`: UTF-8 byte order is code point order. */
export function compareBytes(
  x: Uint8Array,
  a0: number,
  a1: number,
  y: Uint8Array,
  b0: number,
  b1: number,
): number {
  const n = Math.min(a1 - a0, b1 - b0);
  for (let i = 0; i < n; i++) {
    const d = (x[a0 + i] as number) - (y[b0 + i] as number);
    if (d !== 0) return d;
  }
  return a1 - a0 - (b1 - b0);
}

/** First sorted position from `from` whose name is >= key (> key when `after`). */
export function lowerBound(
  text: Buffer,
  starts: Uint32Array,
  key: Uint8Array,
  after: boolean,
  from = 0,
): number {
  let lo = from;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const c = compareBytes(text, starts[mid] as number, starts[mid + 1] as number, key, 0, key.length);
    if (c < 0 || (after && c === 0)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
