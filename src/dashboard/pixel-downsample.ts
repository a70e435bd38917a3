/**
 * Cuts a BucketSeries down to a chart's pixel width: the buckets falling into one pixel column
 * merge, and the column draws its min and its max (in step order), so a one-step spike in a
 * million steps still reaches the screen. Non-finite values become marks, one per column and kind.
 * Rank groups merge the columns of several ranks into a median line and a min–max band.
 */
import { BUCKET as B, COLUMNS, type BucketSeries } from './bucket-series.js';
import type { NonFiniteMark } from './chart-model.js';

export interface PixelLine {
  step: number[];
  ts: number[];
  y: number[];
  marks: NonFiniteMark[];
}

/** One pixel column's merge of buckets. */
export class Column {
  pixel = -1;
  x = NaN;
  t = NaN;
  vmin = Infinity;
  xmin = NaN;
  tmin = NaN;
  vmax = -Infinity;
  xmax = NaN;
  tmax = NaN;
  sum = 0;
  finite = 0;
  nf = 0;
  xnf = NaN;
  tnf = NaN;

  reset(pixel: number, d: Float64Array, o: number): void {
    this.pixel = pixel;
    this.x = d[o + B.X0] as number;
    this.t = d[o + B.T0] as number;
    this.vmin = Infinity;
    this.vmax = -Infinity;
    this.sum = 0;
    this.finite = 0;
    this.nf = 0;
  }

  merge(d: Float64Array, o: number): void {
    if ((d[o + B.VMIN] as number) < this.vmin) {
      this.vmin = d[o + B.VMIN] as number;
      this.xmin = d[o + B.XMIN] as number;
      this.tmin = d[o + B.TMIN] as number;
    }
    if ((d[o + B.VMAX] as number) > this.vmax) {
      this.vmax = d[o + B.VMAX] as number;
      this.xmax = d[o + B.XMAX] as number;
      this.tmax = d[o + B.TMAX] as number;
    }
    this.sum += d[o + B.SUM] as number;
    this.finite += d[o + B.FINITE] as number;
    const nf = d[o + B.NF] as number;
    if (nf !== 0 && this.nf === 0) {
      this.xnf = d[o + B.XNF] as number;
      this.tnf = d[o + B.TNF] as number;
    }
    this.nf |= nf;
  }
}

/** The step range a set of series covers, NaN when they are empty. */
export function stepExtent(series: readonly BucketSeries[]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  // The four step columns of each bucket read in turn, no array of them a bucket: this runs over
  // every bucket of a chart's series per answer (39,000 at 100 runs).
  const [x0, xMin, xMax, xNf] = [B.X0, B.XMIN, B.XMAX, B.XNF];
  for (const s of series) {
    const d = s.data;
    for (let o = 0, end = s.length * COLUMNS; o < end; o += COLUMNS) {
      // NaN (no non-finite value: XNF) compares false, and is left out as before.
      const first = d[o + x0] as number;
      const atMin = d[o + xMin] as number;
      const atMax = d[o + xMax] as number;
      const atNf = d[o + xNf] as number;
      if (first < lo) lo = first;
      if (first > hi) hi = first;
      if (atMin < lo) lo = atMin;
      if (atMin > hi) hi = atMin;
      if (atMax < lo) lo = atMax;
      if (atMax > hi) hi = atMax;
      if (atNf < lo) lo = atNf;
      if (atNf > hi) hi = atNf;
    }
  }
  for (const s of series) {
    if (s.lastStep > hi) hi = s.lastStep;
  }
  return lo <= hi ? [lo, hi] : [NaN, NaN];
}

/**
 * Calls `emit` once per non-empty pixel column of `s` within steps [from, to] (a bucket belongs to
 * the column of its first step). The Column passed is reused: copy what you keep.
 */
export function forEachColumn(
  s: BucketSeries,
  width: number,
  from: number,
  to: number,
  emit: (column: Column) => void,
): void {
  const span = to - from;
  const col = new Column();
  const d = s.data;
  for (let b = 0; b < s.length; b++) {
    const o = b * COLUMNS;
    const x = d[o + B.X0] as number;
    const next = b + 1 < s.length ? (d[o + COLUMNS + B.X0] as number) : Infinity;
    if (x > to || next < from) continue;
    const p = span > 0 ? Math.min(width - 1, Math.max(0, Math.floor(((x - from) / span) * width))) : 0;
    if (p !== col.pixel) {
      if (col.pixel !== -1) emit(col);
      col.reset(p, d, o);
    }
    col.merge(d, o);
  }
  if (col.pixel !== -1) emit(col);
}

/** The min/max envelope of one series, at most two points per pixel column. */
export function pixelLine(s: BucketSeries, width: number, from: number, to: number): PixelLine {
  const out: PixelLine = { step: [], ts: [], y: [], marks: [] };
  const push = (x: number, t: number, v: number): void => {
    out.step.push(x);
    out.ts.push(t);
    out.y.push(v);
  };
  forEachColumn(s, width, from, to, (c) => {
    if (c.finite > 0) {
      const minFirst = c.xmin <= c.xmax;
      if (c.vmin === c.vmax) push(c.xmin, c.tmin, c.vmin);
      else if (minFirst) {
        push(c.xmin, c.tmin, c.vmin);
        push(c.xmax, c.tmax, c.vmax);
      } else {
        push(c.xmax, c.tmax, c.vmax);
        push(c.xmin, c.tmin, c.vmin);
      }
    }
    if (c.nf !== 0) out.marks.push([c.xnf, c.tnf, c.nf]);
  });
  return out;
}

export interface BandLine extends PixelLine {
  lo: number[];
  hi: number[];
}

/**
 * Ranks of one run as a median line with a min–max band: per pixel column, the median of the
 * ranks' column means, and the lowest min and highest max of any rank.
 */
export function bandLine(ranks: readonly BucketSeries[], width: number, from: number, to: number): BandLine {
  const columns = new Map<
    number,
    { x: number; t: number; means: number[]; lo: number; hi: number; nf: number }
  >();
  const marks = new Map<number, NonFiniteMark>();
  for (const s of ranks) {
    forEachColumn(s, width, from, to, (c) => {
      if (c.nf !== 0) {
        const mark = marks.get(c.pixel);
        if (mark === undefined) marks.set(c.pixel, [c.xnf, c.tnf, c.nf]);
        else mark[2] |= c.nf;
      }
      if (c.finite === 0) return;
      const entry = columns.get(c.pixel);
      if (entry === undefined) {
        columns.set(c.pixel, { x: c.x, t: c.t, means: [c.sum / c.finite], lo: c.vmin, hi: c.vmax, nf: c.nf });
        return;
      }
      entry.means.push(c.sum / c.finite);
      entry.lo = Math.min(entry.lo, c.vmin);
      entry.hi = Math.max(entry.hi, c.vmax);
      entry.x = Math.min(entry.x, c.x);
    });
  }
  const out: BandLine = { step: [], ts: [], y: [], lo: [], hi: [], marks: [] };
  for (const [, c] of [...columns].sort((a, b) => a[0] - b[0])) {
    out.step.push(c.x);
    out.ts.push(c.t);
    out.y.push(median(c.means));
    out.lo.push(c.lo);
    out.hi.push(c.hi);
  }
  out.marks = [...marks].sort((a, b) => a[0] - b[0]).map(([, m]) => m);
  return out;
}

export function median(values: number[]): number {
  const sorted = values.slice().sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}
