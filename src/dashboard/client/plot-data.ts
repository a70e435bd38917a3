/**
 * Turns a chart's visible series into uPlot data and series options: each line drawn raw (faint
 * when smoothing is on) with its smoothed line over it, a rank group as a median line inside a
 * min–max band (median and both edges smoothed alike). Values a log axis cannot show (≤ 0) are
 * left out of that view.
 */
import type uPlot from 'uplot';
import type { SeriesModel } from '../chart-model.js';
import { align, type Track } from './align.js';
import { smooth } from './smooth.js';
import { xOf, type ChartMode, type ViewState } from './view-state.js';

export interface PlotData {
  data: uPlot.AlignedData;
  series: uPlot.Series[];
  bands: uPlot.Band[];
  /** For each visible model series: the data column of its line (for the hover readout). */
  lineColumn: number[];
  /**
   * For visible model series `k`: per row of `data`, the index of its point there, or null. Made
   * when first asked (the hover readout), as is `spacing`.
   */
  pointIndex(k: number): (number | null)[];
  /** For visible model series `k`: the median x distance between its neighbouring points. */
  spacing(k: number): number;
  /** Finite points drawn, over all visible lines. */
  points: number;
}

function fade(color: string, alpha: number): string {
  const hex = Math.round(alpha * 255)
    .toString(16)
    .padStart(2, '0');
  return `${color}${hex}`;
}

/**
 * `maxRows`: the most rows the lines are aligned on (align.ts); the chart view gives a few a pixel
 * column, so many runs whose steps differ cost the page what its width does.
 */
export function plotData(
  visible: readonly SeriesModel[],
  state: ViewState,
  mode: ChartMode,
  maxRows = Infinity,
): PlotData {
  const tracks: Track[] = [];
  const series: uPlot.Series[] = [{}];
  const bands: uPlot.Band[] = [];
  const lineColumn: number[] = [];
  const keep = (v: number | null | undefined): number | null =>
    v === null || v === undefined || !Number.isFinite(v) || (state.logY && v <= 0) ? null : v;
  let points = 0;
  for (const s of visible) {
    const n = s.step.length;
    const x = new Array<number | null>(n);
    const y = new Array<number | null>(s.y.length);
    for (let i = 0; i < y.length; i++) y[i] = keep(s.y[i]);
    for (let i = 0; i < n; i++) {
      x[i] = xOf(s, i, mode.mode);
      if (x[i] !== null && i < y.length && y[i] !== null) points++;
    }
    const dash = s.dashed ? [6, 4] : undefined;
    const smoothing = mode.smoothing;
    const columns = [y];
    lineColumn.push(series.length);
    series.push({
      label: s.label,
      stroke: smoothing > 0 ? fade(s.color, 0.25) : s.color,
      width: smoothing > 0 ? 1 : 1.5,
      dash,
      spanGaps: true,
      points: { show: false },
    });
    if (smoothing > 0) {
      columns.push(smooth(y, smoothing));
      series.push({
        label: `${s.label} (smoothed)`,
        stroke: s.color,
        width: 2,
        dash,
        spanGaps: true,
        points: { show: false },
      });
    }
    if (s.band && s.lo !== undefined && s.hi !== undefined) {
      const hiColumn = s.hi.map(keep);
      const loColumn = s.lo.map(keep);
      // Smoothed like the median, or the band would stay jagged around a smooth line.
      columns.push(
        smoothing > 0 ? smooth(hiColumn, smoothing) : hiColumn,
        smoothing > 0 ? smooth(loColumn, smoothing) : loColumn,
      );
      const hi = series.length;
      series.push({
        label: `${s.label} max`,
        stroke: 'transparent',
        spanGaps: true,
        points: { show: false },
      });
      series.push({
        label: `${s.label} min`,
        stroke: 'transparent',
        spanGaps: true,
        points: { show: false },
      });
      bands.push({ series: [hi, hi + 1], fill: fade(s.color, 0.2) });
    }
    tracks.push({ x, columns });
  }
  // Each series' own point indexes on the same rows (aligned.points): the readout finds a point's
  // step and time there.
  const aligned = align(tracks, maxRows);
  const spacings: number[] = [];
  return {
    data: [aligned.x, ...aligned.columns] as uPlot.AlignedData,
    series,
    bands,
    lineColumn,
    pointIndex: (k) => aligned.points(k),
    spacing: (k) => (spacings[k] ??= tracks[k] === undefined ? 0 : medianSpacing((tracks[k] as Track).x)),
    points,
  };
}

/** The median distance between neighbouring x values (0 with fewer than two). */
export function medianSpacing(x: readonly (number | null)[]): number {
  // Typed arrays sort numbers without a comparator call per pair, and x is most often in order
  // already: a chart of 100 runs asks this of 600 lines on its first render.
  const values = new Float64Array(x.length);
  let n = 0;
  let ordered = true;
  for (const v of x) {
    if (v === null || !Number.isFinite(v)) continue;
    if (n > 0 && v < (values[n - 1] as number)) ordered = false;
    values[n++] = v;
  }
  if (n < 2) return 0;
  const sorted = ordered ? values.subarray(0, n) : values.subarray(0, n).sort();
  const gaps = new Float64Array(n - 1);
  for (let i = 1; i < n; i++) gaps[i - 1] = (sorted[i] as number) - (sorted[i - 1] as number);
  return nthSmallest(gaps, gaps.length >> 1);
}

/**
 * The `k`-th smallest of `values` (0-based), reordering them: Hoare's selection, linear on
 * average, where sorting every gap to take the middle one was a sort per line (600 lines on the
 * first render of 100 runs).
 */
export function nthSmallest(values: Float64Array, k: number): number {
  let lo = 0;
  let hi = values.length - 1;
  while (lo < hi) {
    const pivot = values[(lo + hi) >> 1] as number;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while ((values[i] as number) < pivot) i++;
      while ((values[j] as number) > pivot) j--;
      if (i <= j) {
        const t = values[i] as number;
        values[i] = values[j] as number;
        values[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else break;
  }
  return values[k] as number;
}
