/**
 * One bucket of a run index: the summary of consecutive rows of one series, as RECORD_COLUMNS
 * float64 numbers. Level 0 buckets hold up to LEVEL0_ROWS rows; a level-k bucket merges FANOUT
 * consecutive level-(k-1) buckets, so a chart of any width finds a level with about one bucket per
 * pixel column. Offsets let a reader go back to the exact rows: every row of the bucket lies in the
 * stream's bytes [OFFSET, LAST_OFFSET], at line starts.
 */

/** Rows per level-0 bucket: 64 keeps the index near 2% of the stream's bytes. */
export const LEVEL0_ROWS = 64;
/** Level-(k-1) buckets per level-k bucket. */
export const FANOUT = 4;

export const SERIES = 0;
export const LEVEL = 1;
/** Rows in the bucket, non-finite ones included. */
export const COUNT = 2;
export const NAN = 3;
export const POS_INF = 4;
export const NEG_INF = 5;
export const FIRST_STEP = 6;
export const LAST_STEP = 7;
export const FIRST_TS = 8;
export const LAST_TS = 9;
/** Extremes over the finite values (Infinity / -Infinity when there are none), with their steps. */
export const MIN = 10;
export const MIN_STEP = 11;
export const MAX = 12;
export const MAX_STEP = 13;
/** The last value as logged (non-finite values included). */
export const LAST = 14;
/** Sum of the finite values. */
export const SUM = 15;
/** Byte offset of the line of the bucket's first row, and of its last row. */
export const OFFSET = 16;
export const LAST_OFFSET = 17;
export const RECORD_COLUMNS = 18;
export const RECORD_BYTES = RECORD_COLUMNS * 8;

/** Starts a bucket at `o` with one row. */
export function openBucket(
  d: Float64Array,
  o: number,
  series: number,
  level: number,
  step: number,
  ts: number,
  value: number,
  offset: number,
): void {
  d[o + SERIES] = series;
  d[o + LEVEL] = level;
  d[o + COUNT] = 0;
  d[o + NAN] = 0;
  d[o + POS_INF] = 0;
  d[o + NEG_INF] = 0;
  d[o + FIRST_STEP] = step;
  d[o + FIRST_TS] = ts;
  d[o + MIN] = Infinity;
  d[o + MIN_STEP] = NaN;
  d[o + MAX] = -Infinity;
  d[o + MAX_STEP] = NaN;
  d[o + SUM] = 0;
  d[o + OFFSET] = offset;
  addRow(d, o, step, ts, value, offset);
}

/** Adds one row to the bucket at `o`. */
export function addRow(
  d: Float64Array,
  o: number,
  step: number,
  ts: number,
  value: number,
  offset: number,
): void {
  d[o + COUNT]++;
  d[o + LAST_STEP] = step;
  d[o + LAST_TS] = ts;
  d[o + LAST] = value;
  d[o + LAST_OFFSET] = offset;
  if (value - value !== 0) {
    if (value === Infinity) d[o + POS_INF]++;
    else if (value === -Infinity) d[o + NEG_INF]++;
    else d[o + NAN]++;
    return;
  }
  d[o + SUM] += value;
  if (value < (d[o + MIN] as number)) {
    d[o + MIN] = value;
    d[o + MIN_STEP] = step;
  }
  if (value > (d[o + MAX] as number)) {
    d[o + MAX] = value;
    d[o + MAX_STEP] = step;
  }
}

/** Copies bucket `from[f]` into `to[t]` as the start of a bucket of `level`. */
export function copyBucket(to: Float64Array, t: number, from: Float64Array, f: number, level: number): void {
  // Number by number: a subarray to copy from is an object per bucket.
  for (let c = 0; c < RECORD_COLUMNS; c++) to[t + c] = from[f + c] as number;
  to[t + LEVEL] = level;
}

/** Merges the later bucket `from[f]` into `to[t]`. */
export function mergeBucket(to: Float64Array, t: number, from: Float64Array, f: number): void {
  to[t + COUNT] += from[f + COUNT] as number;
  to[t + NAN] += from[f + NAN] as number;
  to[t + POS_INF] += from[f + POS_INF] as number;
  to[t + NEG_INF] += from[f + NEG_INF] as number;
  to[t + LAST_STEP] = from[f + LAST_STEP] as number;
  to[t + LAST_TS] = from[f + LAST_TS] as number;
  to[t + LAST] = from[f + LAST] as number;
  to[t + LAST_OFFSET] = from[f + LAST_OFFSET] as number;
  to[t + SUM] += from[f + SUM] as number;
  if ((from[f + MIN] as number) < (to[t + MIN] as number)) {
    to[t + MIN] = from[f + MIN] as number;
    to[t + MIN_STEP] = from[f + MIN_STEP] as number;
  }
  if ((from[f + MAX] as number) > (to[t + MAX] as number)) {
    to[t + MAX] = from[f + MAX] as number;
    to[t + MAX_STEP] = from[f + MAX_STEP] as number;
  }
}
