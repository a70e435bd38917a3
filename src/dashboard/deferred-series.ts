/**
 * A stream opened from an index that accounts for it (index-select.ts) enters the store without
 * its buckets: each series is read when its chart is first asked for. A first render of 100 runs
 * draws the 6 charts on screen, 600 of 2,500 series; making every series at the start (about 110 MB
 * of buckets at 100 runs × 100,000 steps) delayed the index answer and every chart.
 *
 * At the start only each series' coarsest runs are read (a few records a series): they count its
 * points (the run clock picks a run's densest series by them) and find series whose rows have no
 * step (such a stream is read instead, as bucketStatesOf says, by the first rows of those buckets:
 * a series whose rows all lack a step is found; one that lacks it only in rows that start no
 * coarsest bucket is not). A series' runs of the level drawn are read when its chart is first
 * asked for, from where the index put them (series-runs.ts): one read per block of its index, so
 * an index of more than DEFERRED_MAX_BLOCKS blocks (a live writer's flushes) is read for every
 * series at the start, as before.
 */
import * as R from '../run-index/bucket-record.js';
import { RecordScratch, type SelectedRuns } from '../run-index/index-select.js';
import { readRuns, runPlaces, type RunPlace } from '../run-index/series-runs.js';
import type { BucketSeriesState } from './bucket-series.js';
import { recordsToState } from './index-buckets.js';

/** Blocks an index may have for its series to be read when drawn (each block is a read a series). */
export const DEFERRED_MAX_BLOCKS = 8;

/** Where a series' records are read, then copied into its buckets (one read at a time). */
const SCRATCH = new RecordScratch();

export interface DeferredSeries {
  /** Points the series' buckets hold. */
  points: number;
  /** Reads its buckets: finished ones in stream order, then its open ones (coarsest first). */
  load: () => BucketSeriesState;
}

/** Per series, the coarsest level it has finished buckets at (0 when it has none). */
export function coarsestLevels(counts: Int32Array, series: number, levels: number): Int32Array {
  const coarsest = new Int32Array(series);
  for (let id = 0; id < series; id++)
    for (let l = levels - 1; l > 0; l--)
      if ((counts[id * levels + l] as number) > 0) {
        coarsest[id] = l;
        break;
      }
  return coarsest;
}

/**
 * Per series of `selected` (by id), whose records are its runs at `coarsest[id]`: its points and
 * how to read its buckets at `levels[id]`; undefined when a bucket's first row has no step.
 */
export function deferredSeries(
  selected: SelectedRuns,
  levels: Int32Array,
  coarsest: Int32Array,
): DeferredSeries[] | undefined {
  const n = selected.defs.length;
  // Every row is in one finished bucket of a level or in one open bucket of that level or finer.
  const points = new Float64Array(n);
  for (const d of selected.records)
    for (let o = 0; o < d.length; o += R.RECORD_COLUMNS) {
      if (Number.isNaN(d[o + R.FIRST_STEP])) return undefined;
      points[d[o + R.SERIES] as number] += d[o + R.COUNT] as number;
    }
  const open = selected.open;
  // The open buckets drawn (levels up to the one drawn), kept per series: a few records each.
  const openOf: number[][] = Array.from({ length: n }, () => []);
  for (let o = 0; o < open.length; o += R.RECORD_COLUMNS) {
    if (Number.isNaN(open[o + R.FIRST_STEP])) return undefined;
    const id = open[o + R.SERIES] as number;
    if (id >= n) continue;
    const level = open[o + R.LEVEL] as number;
    if (level <= (coarsest[id] as number)) points[id] += open[o + R.COUNT] as number;
    if (level <= (levels[id] as number)) (openOf[id] as number[]).push(o);
  }
  const places = runPlaces(selected.index, levels, n);
  return Array.from({ length: n }, (_, id) => {
    const own = (openOf[id] as number[]).map((o) => open.slice(o, o + R.RECORD_COLUMNS));
    return {
      points: points[id] as number,
      load: () => seriesState(selected.path, places[id] as RunPlace[], own),
    };
  });
}

function seriesState(
  indexPath: string,
  places: readonly RunPlace[],
  open: readonly Float64Array[],
): BucketSeriesState {
  let count = open.length;
  for (const place of places) count += place.count;
  const records = SCRATCH.reset().take(count * R.RECORD_COLUMNS);
  readRuns(indexPath, places, records);
  open.forEach((record, k) => records.set(record, records.length - (open.length - k) * R.RECORD_COLUMNS));
  return recordsToState(records);
}
