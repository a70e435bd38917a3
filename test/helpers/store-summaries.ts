/**
 * What a dashboard store holds of each series, exactly (points, non-finite counts, extremes and
 * their steps, step range): two reads of a run that hold the same summaries drew the same charts.
 */
import { BUCKET as B, COLUMNS, type BucketSeries } from '../../src/dashboard/bucket-series.js';
import type { SeriesStore } from '../../src/dashboard/series-store.js';

export interface SeriesSummary {
  points: number;
  nan: number;
  posInf: number;
  min: [number, number];
  max: [number, number];
  steps: [number, number];
}

export function seriesSummary(s: BucketSeries): SeriesSummary {
  let min: [number, number] = [Infinity, NaN];
  let max: [number, number] = [-Infinity, NaN];
  let lo = Infinity;
  for (let b = 0; b < s.length; b++) {
    const o = b * COLUMNS;
    if ((s.data[o + B.VMIN] as number) < min[0])
      min = [s.data[o + B.VMIN] as number, s.data[o + B.XMIN] as number];
    if ((s.data[o + B.VMAX] as number) > max[0])
      max = [s.data[o + B.VMAX] as number, s.data[o + B.XMAX] as number];
    lo = Math.min(lo, s.data[o + B.X0] as number);
  }
  return { points: s.points, nan: s.nan, posInf: s.posInf, min, max, steps: [lo, s.lastStep] };
}

/** Every series of the store by chart, line and rank. */
export function storeSummaries(store: SeriesStore): Record<string, SeriesSummary> {
  const out: Record<string, SeriesSummary> = {};
  for (const chart of store.charts.values())
    for (const [id, line] of chart.lines)
      for (const [rank, series] of line.ranks) out[`${chart.metric}|${id}|${rank}`] = seriesSummary(series);
  return out;
}
