/**
 * A run's training steps against time, for drawing its system samples at the training step logged
 * when they were taken (a system sample's own `step` is only its sequence number). The clock is
 * the run's most-logged training series, cut to the chart's width like any line, so it costs at
 * most two pairs per pixel column whatever the run's length.
 */
import type { BucketSeries } from './bucket-series.js';
import type { RunClock } from './chart-model.js';
import { pixelLine, stepExtent } from './pixel-downsample.js';
import type { SeriesStore } from './series-store.js';

/** The training series of `run` with the most points (its densest record of step against time). */
function densestTrainSeries(store: SeriesStore, run: string): BucketSeries | undefined {
  let best: BucketSeries | undefined;
  for (const chart of store.charts.values()) {
    for (const line of chart.lines.values()) {
      if (line.run !== run || line.phase !== 'train') continue;
      for (const series of line.ranks.values()) if (series.points > (best?.points ?? 0)) best = series;
    }
  }
  // A stream opened as a catalog (catalog/) keeps its series out of the charts until asked for.
  const listed = store.catalog.densestTrain(run);
  return listed !== undefined && listed.points > (best?.points ?? 0) ? listed : best;
}

/** `run`'s clock at `width` columns, or undefined when it logged no training step with a time. */
export function runClock(store: SeriesStore, run: string, width: number): RunClock | undefined {
  const series = densestTrainSeries(store, run);
  if (series === undefined) return undefined;
  // Its buckets may not be read yet (deferred-series.ts); its points were counted at the start.
  series.settle();
  const [from, to] = stepExtent([series]);
  const line = pixelLine(series, width, from, to);
  const pairs = line.ts
    .map((t, i) => [t, line.step[i] as number] as const)
    .filter(([t, step]) => Number.isFinite(t) && Number.isFinite(step))
    .sort((a, b) => a[0] - b[0]);
  if (pairs.length === 0) return undefined;
  return { ts: pairs.map(([t]) => t), step: pairs.map(([, step]) => step) };
}
