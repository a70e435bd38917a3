/**
 * After the page's first index answer, the deferred buckets (deferred-series.ts) of the charts it
 * lists first are read ahead, a series at a time with the event loop free between: the page lays
 * out its cards before it asks for the charts on screen (a hundred milliseconds at 100 runs), and
 * this thread was idle then. A chart asked for meanwhile is answered between two series, and reads
 * what is still unread itself. A read that fails is the chart's own, met again when it is asked for.
 */
import type { BucketSeries } from './bucket-series.js';
import type { SeriesStore } from './series-store.js';

/** Charts read ahead: the rows of charts a 1280 × 900 window shows first, and a row more. */
export const SETTLE_AHEAD_CHARTS = 8;

/** Reads ahead the first SETTLE_AHEAD_CHARTS of `metrics` held by `store`; `done` once all are read. */
export function settleAhead(store: SeriesStore, metrics: readonly string[], done?: () => void): void {
  const unread: BucketSeries[] = [];
  // Catalog charts (very many names) are made on request only, so only held charts are read.
  for (const metric of metrics.slice(0, SETTLE_AHEAD_CHARTS)) {
    const chart = store.charts.get(metric);
    if (chart === undefined) continue;
    for (const line of chart.lines.values())
      for (const series of line.ranks.values()) if (series.unsettled) unread.push(series);
  }
  let next = 0;
  const step = (): void => {
    const series = unread[next++];
    if (series === undefined) {
      done?.();
      return;
    }
    try {
      series.settle();
    } catch {
      // Kept by the series: the request for its chart reports it.
    }
    setImmediate(step);
  };
  setImmediate(step);
}
