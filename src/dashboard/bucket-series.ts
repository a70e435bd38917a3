/**
 * One series of a run held in bounded memory: consecutive points fall into buckets of `width`
 * points, and each bucket keeps its extremes (value, step and time of its min and of its max), its
 * finite sum and count, and which non-finite values it saw. When the buckets are full, neighbours
 * merge and the width doubles, so a series of any length costs at most MAX_BUCKETS buckets (fewer
 * when the store holds many series: bucket-budget.ts) and a spike is never averaged away: it stays
 * some bucket's min or max.
 */

/** 4096 buckets keep every pixel of a 2000-pixel-wide chart exact when the series is short, and a
 * 1,000,000-step series at 256 points a bucket, in 4096 × 13 × 8 bytes = 426 KiB. */
export const MAX_BUCKETS = 4096;
/** A series of a few rows (one of a million names) starts small; buckets double as it grows. */
const INITIAL_BUCKETS = 1;

export { NF_NAN, NF_POS_INF, NF_NEG_INF } from './chart-model.js';
import { NF_NAN, NF_POS_INF, NF_NEG_INF } from './chart-model.js';

/** Column indexes of one bucket in the flat Float64Array. */
const X0 = 0; // step of the bucket's first point
const T0 = 1; // time of the bucket's first point
const XMIN = 2;
const TMIN = 3;
const VMIN = 4;
const XMAX = 5;
const TMAX = 6;
const VMAX = 7;
const SUM = 8;
const FINITE = 9; // finite points
const POINTS = 10; // all points
const NF = 11; // NF_* bits
const XNF = 12; // step of the first non-finite point
const TNF = 13;
export const COLUMNS = 14;

/** A series as plain data (what a worker thread posts back). */
export interface BucketSeriesState {
  data: Float64Array;
  length: number;
  width: number;
  points: number;
  nan: number;
  posInf: number;
  negInf: number;
  firstTs: number;
  /** Step of the last point: a bucket keeps the steps of its first point and extremes only. */
  lastStep: number;
}

export class BucketSeries implements BucketSeriesState {
  /** Bucket data, COLUMNS numbers per bucket. */
  data: Float64Array = new Float64Array(INITIAL_BUCKETS * COLUMNS);
  length = 0;
  /** Points per full bucket. */
  width = 1;
  points = 0;
  nan = 0;
  posInf = 0;
  negInf = 0;
  /** Time of the first point (relative-time axis origin); NaN until a point has a time. */
  firstTs = NaN;
  lastStep = NaN;
  /**
   * Buckets this series keeps at most: MAX_BUCKETS, or less when the store holds many series
   * (bucket-budget.ts) or a worker reads for such a store.
   */
  private cap: number;
  /**
   * Buckets to be read when the series is first drawn or appended to, in order (the first read of
   * a stream from its run index: deferred-series.ts), with the points each holds, already counted
   * in `points`; and what a failed read threw, thrown again to every reader.
   */
  private deferred: { load: () => BucketSeriesState; points: number }[] | undefined = undefined;
  private failed: unknown = undefined;

  constructor(cap = MAX_BUCKETS) {
    this.cap = checkedCap(cap);
  }

  /**
   * Buckets this series gets when it is first read (`settle`), after those it holds: `points` is
   * how many points they hold, counted now (the run clock picks a run's densest series by it).
   */
  defer(load: () => BucketSeriesState, points: number): void {
    (this.deferred ??= []).push({ load, points });
    this.points += points;
  }

  /** Whether buckets are still to be read (see `defer`). */
  get unsettled(): boolean {
    return this.deferred !== undefined;
  }

  /**
   * Reads the deferred buckets, in order. A read that fails (its run index rewritten since) is
   * thrown, now and on every later call: the series holds what came after it.
   */
  settle(): void {
    if (this.failed !== undefined) throw this.failed;
    const deferred = this.deferred;
    if (deferred === undefined) return;
    this.deferred = undefined;
    for (const part of deferred) {
      this.points -= part.points;
      let state: BucketSeriesState;
      try {
        state = part.load();
      } catch (error) {
        this.failed = error;
        for (const left of deferred.slice(deferred.indexOf(part) + 1)) this.points -= left.points;
        throw error;
      }
      this.append(state);
    }
  }

  /** settle(), for a writer: the points it adds go after the deferred ones, whatever became of them. */
  private settleBeforeWrite(): void {
    try {
      this.settle();
    } catch {
      // Kept in `failed`: every chart of this series says so.
    }
  }

  /**
   * Keeps at most `cap` buckets from now on: neighbours merge (as when the series is full) until
   * its buckets fit, and a larger array than that is given back.
   */
  limit(cap: number): void {
    this.cap = checkedCap(cap);
    while (this.length > this.cap) this.halve();
    if (this.data.length > this.cap * COLUMNS) this.data = this.data.slice(0, this.cap * COLUMNS);
  }

  add(step: number, ts: number, value: number): void {
    if (this.deferred !== undefined) this.settleBeforeWrite();
    this.points++;
    if (Number.isNaN(this.firstTs)) this.firstTs = ts;
    this.lastStep = step;
    let b = this.length - 1;
    // `>=`: a bucket appended from a series read in parallel may hold more than this width.
    if (b < 0 || (this.data[b * COLUMNS + POINTS] as number) >= this.width) b = this.open(step, ts);
    const o = b * COLUMNS;
    const d = this.data;
    d[o + POINTS]++;
    if (value - value !== 0) {
      let bit = NF_NAN;
      if (value === Infinity) {
        bit = NF_POS_INF;
        this.posInf++;
      } else if (value === -Infinity) {
        bit = NF_NEG_INF;
        this.negInf++;
      } else this.nan++;
      if (d[o + NF] === 0) {
        d[o + XNF] = step;
        d[o + TNF] = ts;
      }
      d[o + NF] = (d[o + NF] as number) | bit;
      return;
    }
    d[o + SUM] += value;
    d[o + FINITE]++;
    if (value < (d[o + VMIN] as number)) {
      d[o + VMIN] = value;
      d[o + XMIN] = step;
      d[o + TMIN] = ts;
    }
    if (value > (d[o + VMAX] as number)) {
      d[o + VMAX] = value;
      d[o + XMAX] = step;
      d[o + TMAX] = ts;
    }
  }

  /**
   * Appends `later`, the same series read from a later byte range (a worker's part of a big file):
   * its buckets follow this one's, pairs merging as usual when the store is full, so extremes and
   * counts are exactly those of one reader over both ranges; only bucket edges may differ.
   */
  /** Drops every point: the series' run is being read again from its start (a TensorBoard restart). */
  clear(): void {
    Object.assign(this, new BucketSeries(this.cap));
  }

  append(later: BucketSeriesState): void {
    if (this.deferred !== undefined) this.settleBeforeWrite();
    if (later.points === 0) return;
    if (Number.isNaN(this.firstTs)) this.firstTs = later.firstTs;
    this.lastStep = later.lastStep;
    this.width = Math.max(this.width, later.width);
    if (this.length === 0 && later.length <= this.cap) {
      // The first state of a series (its run index, a worker's part): taken as it is, not copied.
      // The caller hands it over.
      this.data = later.data;
      this.length = later.length;
    } else {
      // Sized once for what comes (within the cap), not doubled from one bucket: every array left
      // behind is garbage until V8 next collects it, and a first read appends 25 series a stream.
      const wanted = Math.min(this.cap, this.length + later.length) * COLUMNS;
      if (wanted > this.data.length) {
        const bigger = new Float64Array(wanted);
        bigger.set(this.data.subarray(0, this.length * COLUMNS));
        this.data = bigger;
      }
      for (let b = 0; b < later.length; b++) {
        const o = this.slot() * COLUMNS;
        this.data.set(later.data.subarray(b * COLUMNS, (b + 1) * COLUMNS), o);
      }
    }
    this.points += later.points;
    this.nan += later.nan;
    this.posInf += later.posInf;
    this.negInf += later.negInf;
  }

  /** The plain numbers of this series, for posting between threads. */
  state(): BucketSeriesState {
    const { length, width, points, nan, posInf, negInf, firstTs, lastStep } = this;
    return {
      data: this.data.slice(0, length * COLUMNS),
      length,
      width,
      points,
      nan,
      posInf,
      negInf,
      firstTs,
      lastStep,
    };
  }

  /** Starts a bucket at `step`, merging pairs first when the store is full; returns its index. */
  private open(step: number, ts: number): number {
    const b = this.slot();
    const o = b * COLUMNS;
    const d = this.data;
    d.fill(0, o, o + COLUMNS);
    d[o + X0] = step;
    d[o + T0] = ts;
    d[o + VMIN] = Infinity;
    d[o + VMAX] = -Infinity;
    d[o + XNF] = NaN;
    d[o + TNF] = NaN;
    return b;
  }

  /** Claims the next bucket index, merging pairs first when the store is full. */
  private slot(): number {
    if (this.length >= this.cap) this.halve();
    if ((this.length + 1) * COLUMNS > this.data.length) {
      const bigger = new Float64Array(Math.min(this.data.length * 2, this.cap * COLUMNS));
      bigger.set(this.data);
      this.data = bigger;
    }
    return this.length++;
  }

  private halve(): void {
    const d = this.data;
    for (let i = 0; i < this.length / 2; i++) {
      const to = i * COLUMNS;
      const a = 2 * i * COLUMNS;
      const b = a + COLUMNS;
      d.copyWithin(to, a, a + COLUMNS);
      if (2 * i + 1 >= this.length) continue;
      if ((d[b + VMIN] as number) < (d[to + VMIN] as number)) d.copyWithin(to + XMIN, b + XMIN, b + VMIN + 1);
      if ((d[b + VMAX] as number) > (d[to + VMAX] as number)) d.copyWithin(to + XMAX, b + XMAX, b + VMAX + 1);
      d[to + SUM] += d[b + SUM] as number;
      d[to + FINITE] += d[b + FINITE] as number;
      d[to + POINTS] += d[b + POINTS] as number;
      if (d[to + NF] === 0 && d[b + NF] !== 0) {
        d[to + XNF] = d[b + XNF] as number;
        d[to + TNF] = d[b + TNF] as number;
      }
      d[to + NF] = (d[to + NF] as number) | (d[b + NF] as number);
    }
    this.length = Math.ceil(this.length / 2);
    this.width *= 2;
  }
}

/** A cap of buckets: an even count (pairs merge) from 2 to MAX_BUCKETS. */
function checkedCap(cap: number): number {
  if (!Number.isInteger(cap) || cap < 2 || cap > MAX_BUCKETS || cap % 2 !== 0)
    throw new Error(`a series keeps an even count of buckets from 2 to ${MAX_BUCKETS} (got ${cap})`);
  return cap;
}

/** Read access to one bucket, for the downsampler. */
export const BUCKET = {
  X0,
  T0,
  XMIN,
  TMIN,
  VMIN,
  XMAX,
  TMAX,
  VMAX,
  SUM,
  FINITE,
  POINTS,
  NF,
  XNF,
  TNF,
} as const;
