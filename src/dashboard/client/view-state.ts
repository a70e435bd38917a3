/**
 * What the controls choose, shared by every chart, and which of a chart's series it leaves
 * visible. Plain data, so the selection logic runs in tests without a browser.
 */
import type { ChartModel, SeriesModel } from '../chart-model.js';

export type XMode = 'step' | 'wall' | 'relative';

export interface ViewState {
  /** TensorBoard's smoothing weight, 0 (off) to 0.999. */
  smoothing: number;
  logY: boolean;
  xMode: XMode;
  hiddenRuns: Set<string>;
  /** Per run with several ranks: the median-and-band group ('band') or one rank alone. */
  rankChoice: Map<string, 'band' | number>;
  filter: RegExp | null;
  pinned: Set<string>;
}

export function initialState(): ViewState {
  return {
    smoothing: 0.6,
    logY: false,
    xMode: 'step',
    hiddenRuns: new Set(),
    rankChoice: new Map(),
    filter: null,
    pinned: new Set(),
  };
}

/** The series a chart draws under `state`: visible runs, and for rank groups the chosen view. */
export function visibleSeries(chart: ChartModel, state: ViewState): SeriesModel[] {
  const grouped = new Set(chart.series.filter((s) => s.band).map((s) => `${s.run}\u0000${s.phase}`));
  return chart.series.filter((s) => {
    if (state.hiddenRuns.has(s.run)) return false;
    if (!grouped.has(`${s.run}\u0000${s.phase}`)) return true;
    const choice = state.rankChoice.get(s.run) ?? 'band';
    return choice === 'band' ? s.band : s.rank === choice;
  });
}

/** A point's x under the chosen axis, or null when the point has no time and the axis needs one. */
export function xOf(s: SeriesModel, i: number, mode: XMode): number | null {
  if (mode === 'step') return s.step[i] ?? null;
  const t = s.ts[i];
  if (t === undefined || t === null) return null;
  return mode === 'wall' ? t : t - (s.t0 ?? t);
}

export function markX(
  s: SeriesModel,
  mark: readonly [number, number | null, number],
  mode: XMode,
): number | null {
  if (mode === 'step') return mark[0];
  const t = mark[1];
  if (t === null) return null;
  return mode === 'wall' ? t : t - (s.t0 ?? t);
}

/** Whether the filter shows a chart; an empty filter shows all. */
export function matchesFilter(metric: string, state: ViewState): boolean {
  return state.filter === null || state.filter.test(metric);
}

/** A regular expression from the filter box, or undefined when the text is not one. */
export function parseFilter(text: string): RegExp | null | undefined {
  if (text.trim() === '') return null;
  try {
    return new RegExp(text, 'i');
  } catch (error) {
    if (error instanceof SyntaxError) return undefined;
    throw error;
  }
}
