/**
 * What a zoom reads for one series and a step window, from the series' index buckets (pure): the
 * exact rows once the window holds few enough of them to draw every one, else the finest level
 * whose buckets number about one per pixel column (drawn as min/max envelopes).
 */
import * as R from '../../run-index/bucket-record.js';
import type { LineRange } from '../../ndjson/read-line-ranges.js';
import type { SeriesBuckets } from './index-cache.js';

/** An envelope draws at most two points per pixel column: with fewer rows than that, draw them all. */
export const EXACT_ROWS_PER_PIXEL = 2;
/**
 * ...and below this many rows whatever the width: drawing 4,096 points costs the page a few
 * milliseconds, and reading them a few MB, so a 2,000-step window is exact on any chart.
 */
export const EXACT_MIN_ROWS = 4096;

/** Calls `visit` for each bucket of `s` at `level` (finished, then open ones of lower levels). */
function eachBucket(s: SeriesBuckets, level: number, visit: (d: Float64Array, o: number) => void): void {
  const finished = s.levels[level];
  if (finished !== undefined) for (let o = 0; o < finished.length; o += R.RECORD_COLUMNS) visit(finished, o);
  for (let o = 0; o < s.open.length; o += R.RECORD_COLUMNS)
    if ((s.open[o + R.LEVEL] as number) <= level) visit(s.open, o);
}

/** Whether a bucket's steps meet [from, to] (its first, last and extreme rows' steps bound it). */
export function overlaps(d: Float64Array, o: number, from: number, to: number): boolean {
  const first = d[o + R.FIRST_STEP] as number;
  const last = d[o + R.LAST_STEP] as number;
  // MIN_STEP and MAX_STEP are NaN in a bucket of non-finite values only: Math.min/max would give NaN.
  let lo = Math.min(first, last);
  let hi = Math.max(first, last);
  const a = d[o + R.MIN_STEP] as number;
  const b = d[o + R.MAX_STEP] as number;
  if (a < lo) lo = a;
  if (b < lo) lo = b;
  if (a > hi) hi = a;
  if (b > hi) hi = b;
  return hi >= from && lo <= to;
}

/** Rows without a step are placed by their count, which buckets cannot give: no zoom from the index. */
export function stepless(files: readonly SeriesBuckets[]): boolean {
  let found = false;
  for (const s of files)
    eachBucket(s, 0, (d, o) => {
      if (Number.isNaN(d[o + R.FIRST_STEP])) found = true;
    });
  return found;
}

function topLevel(files: readonly SeriesBuckets[]): number {
  let top = 0;
  for (const s of files) {
    top = Math.max(top, s.levels.length - 1);
    for (let o = 0; o < s.open.length; o += R.RECORD_COLUMNS)
      top = Math.max(top, s.open[o + R.LEVEL] as number);
  }
  return top;
}

/** Buckets of `level` meeting the window, and the rows they hold (at level 0: the window's rows, give or take its edge buckets). */
export function countWindow(
  files: readonly SeriesBuckets[],
  level: number,
  from: number,
  to: number,
): { buckets: number; rows: number } {
  const out = { buckets: 0, rows: 0 };
  for (const s of files)
    eachBucket(s, level, (d, o) => {
      if (!overlaps(d, o, from, to)) return;
      out.buckets++;
      out.rows += d[o + R.COUNT] as number;
    });
  return out;
}

export function exactWanted(rows: number, width: number): boolean {
  return rows <= Math.max(EXACT_ROWS_PER_PIXEL * width, EXACT_MIN_ROWS);
}

/** The finest level whose buckets in the window number at most `width` (one per pixel column). */
export function envelopeLevel(
  files: readonly SeriesBuckets[],
  from: number,
  to: number,
  width: number,
): number {
  const top = topLevel(files);
  for (let level = 0; level < top; level++)
    if (countWindow(files, level, from, to).buckets <= width) return level;
  return top;
}

/** The buckets of `level` meeting the window, in stream order, as flat records. */
export function windowRecords(
  files: readonly SeriesBuckets[],
  level: number,
  from: number,
  to: number,
): number[] {
  const out: number[] = [];
  for (const s of files)
    eachBucket(s, level, (d, o) => {
      if (overlaps(d, o, from, to)) for (let c = 0; c < R.RECORD_COLUMNS; c++) out.push(d[o + c] as number);
    });
  return out;
}

/**
 * The line ranges holding a file's rows of the window: each level-0 bucket meeting it spans
 * [OFFSET, end of the line at LAST_OFFSET]; a bucket of one or two rows (a sparse series) is read
 * as those lines alone, not the other series' rows between them. Unsorted; see mergeLineRanges.
 */
export function exactRanges(s: SeriesBuckets, from: number, to: number): LineRange[] {
  const out: LineRange[] = [];
  eachBucket(s, 0, (d, o) => {
    if (!overlaps(d, o, from, to)) return;
    const first = d[o + R.OFFSET] as number;
    const last = d[o + R.LAST_OFFSET] as number;
    if ((d[o + R.COUNT] as number) <= 2) {
      out.push({ start: first, lastLine: first });
      if (last !== first) out.push({ start: last, lastLine: last });
    } else out.push({ start: first, lastLine: last });
  });
  return out;
}
