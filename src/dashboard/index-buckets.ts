/**
 * Run-index buckets as the dashboard's series: per series, the records of the level it is drawn
 * at (about one bucket a pixel column) turned into BucketSeries buckets, finished ones in stream
 * order, then the open ones. Shared by the first read of a stream from its index
 * (index-backlog.ts), the catalog, the zoom and the TensorBoard and W&B run indexes.
 */
import * as R from '../run-index/bucket-record.js';
import type { SeriesDef } from '../run-index/index-builder.js';
import {
  BUCKET as B,
  COLUMNS,
  MAX_BUCKETS,
  NF_NAN,
  NF_NEG_INF,
  NF_POS_INF,
  type BucketSeriesState,
} from './bucket-series.js';

/** Levels a bucket record can name (the builder keeps 12; the TensorBoard and W&B indexes too). */
const RECORD_LEVELS = 16;

/**
 * Buckets per series on the first render: about one a pixel column of a chart (a series is held
 * at the finest level with at most this many finished buckets). A coarser level would draw fewer
 * than a chart has columns; a finer one is read for a zoom.
 */
export const FIRST_RENDER_BUCKETS = MAX_BUCKETS / 4;

/**
 * Per series, the level it is drawn at: the finest with at most FIRST_RENDER_BUCKETS finished
 * buckets (`counts[id * levels + level]`), or the coarsest it has when none is that small.
 */
export function firstRenderLevels(counts: Int32Array, series: number, levels: number): Int32Array {
  const chosen = new Int32Array(series);
  for (let id = 0; id < series; id++) {
    let l = 0;
    while (l < levels - 1 && (counts[id * levels + l] as number) > FIRST_RENDER_BUCKETS) l++;
    chosen[id] = l;
  }
  return chosen;
}

/**
 * Per series (by id), its buckets at the finest level that fits a BucketSeries, as one: finished
 * buckets in stream order, then open ones (coarsest first). Shared with the TensorBoard run index.
 */
export function bucketStates(
  defs: readonly SeriesDef[],
  records: readonly Float64Array[],
  open: Float64Array,
): BucketSeriesState[] {
  return bucketStatesOf(defs, records, open, false) as BucketSeriesState[];
}

/**
 * bucketStates, or undefined when `refuseStepless` and a bucket's rows have no step: rows without a
 * step are placed by their count, which buckets cannot give, so such a stream is read instead.
 * Two passes over the records (count, then copy into one array per series): the first render
 * waits on this, and a 60 MB index holds 430,000 records.
 */
export function bucketStatesOf(
  defs: readonly SeriesDef[],
  records: readonly Float64Array[],
  open: Float64Array,
  refuseStepless = true,
  chosen?: Int32Array,
): BucketSeriesState[] | undefined {
  const counts = new Int32Array(defs.length * RECORD_LEVELS);
  for (const d of records)
    for (let o = 0; o < d.length; o += R.RECORD_COLUMNS) {
      if (refuseStepless && Number.isNaN(d[o + R.FIRST_STEP])) return undefined;
      counts[(d[o + R.SERIES] as number) * RECORD_LEVELS + (d[o + R.LEVEL] as number)]++;
    }
  for (let o = 0; o < open.length; o += R.RECORD_COLUMNS)
    if (refuseStepless && Number.isNaN(open[o + R.FIRST_STEP])) return undefined;
  const level = chosen ?? firstRenderLevels(counts, defs.length, RECORD_LEVELS);
  const sizes = new Int32Array(defs.length);
  for (let id = 0; id < defs.length; id++)
    sizes[id] = counts[id * RECORD_LEVELS + (level[id] as number)] as number;
  for (let o = 0; o < open.length; o += R.RECORD_COLUMNS) {
    const id = open[o + R.SERIES] as number;
    if ((open[o + R.LEVEL] as number) <= (level[id] as number)) (sizes[id] as number)++;
  }
  // Each series' buckets go straight from the records into its state, a run (one series, one
  // level: record-runs.ts) at a time: no copy of the records per series in between, which at
  // 100 runs × 25 series was a million small copies and 144 MB of garbage.
  const states = defs.map((_, id) => emptyState(sizes[id] as number));
  for (const d of records) {
    const n = d.length / R.RECORD_COLUMNS;
    for (let first = 0; first < n;) {
      const o = first * R.RECORD_COLUMNS;
      const id = d[o + R.SERIES] as number;
      const at = d[o + R.LEVEL] as number;
      let end = first + 1;
      while (
        end < n &&
        d[end * R.RECORD_COLUMNS + R.SERIES] === id &&
        d[end * R.RECORD_COLUMNS + R.LEVEL] === at
      )
        end++;
      if (at === level[id]) fillState(states[id] as BucketSeriesState, d, first, end - first);
      first = end;
    }
  }
  for (let o = 0, b = 0; o < open.length; o += R.RECORD_COLUMNS, b++) {
    const id = open[o + R.SERIES] as number;
    if ((open[o + R.LEVEL] as number) <= (level[id] as number))
      fillState(states[id] as BucketSeriesState, open, b, 1);
  }
  return states;
}

/** A state with room for `buckets` buckets, none filled yet (fillState fills them). */
function emptyState(buckets: number): BucketSeriesState {
  return {
    data: new Float64Array(buckets * COLUMNS),
    length: 0,
    width: 1,
    points: 0,
    nan: 0,
    posInf: 0,
    negInf: 0,
    firstTs: NaN,
    lastStep: NaN,
  };
}

/** Index buckets as BucketSeries buckets (the time of a bucket's min and max: its first row's). */
export function recordsToState(records: ArrayLike<number>): BucketSeriesState {
  const length = records.length / R.RECORD_COLUMNS;
  const state = emptyState(length);
  fillState(state, records, 0, length);
  return state;
}

/** Appends `count` index records of `records`, from record `first` on, to `state` as its next buckets. */
function fillState(state: BucketSeriesState, records: ArrayLike<number>, first: number, count: number): void {
  const data = state.data;
  // Plain indexing, no helper per column, and the column numbers in locals: this runs once per
  // bucket of every series on the first render, in a process whose code is still cold, where a
  // property load per column (R.MIN, B.VMIN) cost more than the copy (41 ms cold for 22,730
  // records at 20 scalars × 1,000,000 steps).
  const [rStride, rCount, rNan, rPosInf, rNegInf, rFirstStep, rLastStep, rFirstTs, rLastTs] = [
    R.RECORD_COLUMNS,
    R.COUNT,
    R.NAN,
    R.POS_INF,
    R.NEG_INF,
    R.FIRST_STEP,
    R.LAST_STEP,
    R.FIRST_TS,
    R.LAST_TS,
  ];
  const [rMin, rMinStep, rMax, rMaxStep, rSum] = [R.MIN, R.MIN_STEP, R.MAX, R.MAX_STEP, R.SUM];
  const [bX0, bT0, bXmin, bTmin, bVmin, bXmax, bTmax, bVmax, bSum, bFinite, bPoints, bNf, bXnf, bTnf] = [
    B.X0,
    B.T0,
    B.XMIN,
    B.TMIN,
    B.VMIN,
    B.XMAX,
    B.TMAX,
    B.VMAX,
    B.SUM,
    B.FINITE,
    B.POINTS,
    B.NF,
    B.XNF,
    B.TNF,
  ];
  let width = state.width;
  let points = state.points;
  let nanRows = state.nan;
  let posInfRows = state.posInf;
  let negInfRows = state.negInf;
  for (let k = 0; k < count; k++) {
    const b = state.length + k;
    const r = (first + k) * rStride;
    const o = b * COLUMNS;
    const nan = records[r + rNan] as number;
    const posInf = records[r + rPosInf] as number;
    const negInf = records[r + rNegInf] as number;
    const rows = records[r + rCount] as number;
    const firstStep = records[r + rFirstStep] as number;
    const lastStep = records[r + rLastStep] as number;
    const firstTs = records[r + rFirstTs] as number;
    const lastTs = records[r + rLastTs] as number;
    const minStep = records[r + rMinStep] as number;
    const maxStep = records[r + rMaxStep] as number;
    const nonFinite = nan + posInf + negInf;
    data[o + bX0] = firstStep;
    data[o + bT0] = firstTs;
    data[o + bXmin] = minStep;
    data[o + bTmin] = minStep === lastStep ? lastTs : firstTs;
    data[o + bVmin] = records[r + rMin] as number;
    data[o + bXmax] = maxStep;
    data[o + bTmax] = maxStep === lastStep ? lastTs : firstTs;
    data[o + bVmax] = records[r + rMax] as number;
    data[o + bSum] = records[r + rSum] as number;
    data[o + bFinite] = rows - nonFinite;
    data[o + bPoints] = rows;
    data[o + bNf] = (nan > 0 ? NF_NAN : 0) | (posInf > 0 ? NF_POS_INF : 0) | (negInf > 0 ? NF_NEG_INF : 0);
    data[o + bXnf] = nonFinite > 0 ? firstStep : NaN;
    data[o + bTnf] = nonFinite > 0 ? firstTs : NaN;
    if (rows > width) width = rows;
    points += rows;
    nanRows += nan;
    posInfRows += posInf;
    negInfRows += negInf;
    if (b === 0) state.firstTs = firstTs;
    if (k === count - 1) state.lastStep = lastStep;
  }
  state.width = width;
  state.points = points;
  state.nan = nanRows;
  state.posInf = posInfRows;
  state.negInf = negInfRows;
  state.length += count;
}
