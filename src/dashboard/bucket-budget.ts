/**
 * The store-wide budget of buckets: the more series the dashboard holds, the fewer buckets each
 * may keep. One run's 25 series keep MAX_BUCKETS (4096) each, as they always have; past
 * STORE_BUCKET_BUDGET / MAX_BUCKETS series the cap of every series halves (each series merges
 * neighbouring buckets, as it does when full) until the series fit the budget, but never below
 * MIN_SERIES_BUCKETS, about one bucket per pixel column of a chart. 100 runs × 25 series hold
 * 512 buckets a series (143 MB) instead of 4096 (1.15 GB).
 */
import { MAX_BUCKETS, type BucketSeries } from './bucket-series.js';

/**
 * Buckets all series together may keep: 2^18 × 14 × 8 bytes = 29 MB, so 64 series keep 4096
 * buckets each, 128 keep 2048, 256 keep 1024 (what a first render from a run index reads), 512 keep
 * 512. Past 512 series the floor holds, and each series adds up to 56 KiB (2,500 series: 143 MB).
 * A larger budget keeps more buckets at a few runs and peaks higher at many: the first open of
 * 100 runs × 10,000 steps measured 410 MB of peak RSS with 2^20, 347 MB with 2^18 (once each).
 */
export const STORE_BUCKET_BUDGET = 1 << 18;

/**
 * The lowest cap a series is shrunk to: a series at its cap has just merged down to half of it, so
 * it keeps 257 to 512 buckets over its steps, about a chart's width in pixel columns.
 */
export const MIN_SERIES_BUCKETS = 512;

/** What `/api/index` shows of the budget (`buckets`). */
export interface BucketBudgetCounters {
  /** Buckets all series together may keep (the floor may pass it: see `overBudget`). */
  budget: number;
  /** Series held. */
  series: number;
  /** Buckets a series may keep now. */
  perSeries: number;
  /** Times the per-series cap was halved since the start. */
  shrinks: number;
  /** Whether the floor holds: more series than the budget fits at MIN_SERIES_BUCKETS each. */
  overBudget: boolean;
  /** Bytes the series' bucket arrays take now. */
  bytesHeld: number;
  /** Series whose buckets are read when their chart is first asked for, not read yet (deferred-series.ts). */
  unread: number;
}

export class BucketBudget {
  private readonly series: BucketSeries[] = [];
  private cap = MAX_BUCKETS;
  private shrinks = 0;

  constructor(readonly budget = STORE_BUCKET_BUDGET) {
    if (!Number.isInteger(budget) || budget < 1)
      throw new Error(`the store's bucket budget must be a positive integer (got ${budget})`);
  }

  /** Buckets a series may keep now (a power of two from MIN_SERIES_BUCKETS to MAX_BUCKETS). */
  perSeries(): number {
    return this.cap;
  }

  /** Counts a new series in; when the series no longer fit, every one merges down to the new cap. */
  add(series: BucketSeries): void {
    this.series.push(series);
    series.limit(this.cap);
    const fits = this.capFor(this.series.length);
    if (fits >= this.cap) return;
    this.cap = fits;
    this.shrinks++;
    for (const held of this.series) held.limit(fits);
  }

  counters(): BucketBudgetCounters {
    let bytesHeld = 0;
    let unread = 0;
    for (const series of this.series) {
      bytesHeld += series.data.byteLength;
      if (series.unsettled) unread++;
    }
    return {
      budget: this.budget,
      series: this.series.length,
      perSeries: this.cap,
      shrinks: this.shrinks,
      overBudget: this.series.length * MIN_SERIES_BUCKETS > this.budget,
      bytesHeld,
      unread,
    };
  }

  /** The largest power-of-two cap at which `count` series fit the budget, within the bounds. */
  private capFor(count: number): number {
    let cap = MAX_BUCKETS;
    while (cap > MIN_SERIES_BUCKETS && cap * count > this.budget) cap /= 2;
    return cap;
  }
}
