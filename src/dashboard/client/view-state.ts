/**
 * What the controls choose, shared by every chart, and which of a chart's series it leaves
 * visible. Plain data, so the selection logic runs in tests without a browser.
 */
import type { ChartModel, RunClock, SeriesModel } from '../chart-model.js';

/**
 * What x is: the training step, wall time, time since the series began, or (system charts with
 * no times, as in a static report) the sample's sequence number. On a system chart `step` is the
 * training step logged at the sample's time (its run's clock).
 */
export type XMode = 'step' | 'wall' | 'relative' | 'sample';

export interface ViewState {
  /** TensorBoard's smoothing weight, 0 (off) to 0.999. */
  smoothing: number;
  logY: boolean;
  xMode: XMode;
  /** The x axis of system charts: wall time by default, or aligned to the training step. */
  systemX: 'wall' | 'relative' | 'step';
  /** System charts are smoothed only when asked: a spike in memory or power is the news. */
  smoothSystem: boolean;
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
    systemX: 'wall',
    smoothSystem: false,
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

/** Whether a chart holds system samples (its x and smoothing follow the system controls). */
export function isSystemChart(chart: Pick<ChartModel, 'section'>): boolean {
  return chart.section.startsWith('system');
}

/** How one chart is drawn under `state`: its x axis and its smoothing weight. */
export interface ChartMode {
  mode: XMode;
  smoothing: number;
}

export function chartMode(chart: ChartModel, state: ViewState): ChartMode {
  if (!isSystemChart(chart)) return { mode: state.xMode, smoothing: state.smoothing };
  const timed = chart.series.length === 0 || chart.series.some((s) => s.ts.some((t) => t !== null));
  return {
    // Samples without times (a static report) can only be drawn in the order they were taken.
    mode: timed ? state.systemX : 'sample',
    smoothing: state.smoothSystem ? state.smoothing : 0,
  };
}

/**
 * The training step at time `t` on a run's clock: interpolated between the steps logged just
 * before and after it; null outside the clock (before training began, or after its last step).
 */
export function stepAtTime(clock: RunClock | undefined, t: number | null | undefined): number | null {
  if (clock === undefined || t === null || t === undefined || clock.ts.length === 0) return null;
  const { ts, step } = clock;
  if (t < (ts[0] as number) || t > (ts[ts.length - 1] as number)) return null;
  let lo = 0;
  let hi = ts.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if ((ts[mid] as number) <= t) lo = mid;
    else hi = mid;
  }
  const t0 = ts[lo] as number;
  const t1 = ts[hi] as number;
  const s0 = step[lo] as number;
  const s1 = step[hi] as number;
  return t1 === t0 ? Math.max(s0, s1) : s0 + ((t - t0) / (t1 - t0)) * (s1 - s0);
}

/** x of a point at `step` and time `t` under `mode`, or null when the point cannot be placed. */
function placed(
  s: SeriesModel,
  step: number | undefined,
  t: number | null | undefined,
  mode: XMode,
): number | null {
  if (mode === 'sample') return step ?? null;
  if (mode === 'step') return s.phase === 'system' ? stepAtTime(s.clock, t) : (step ?? null);
  if (t === undefined || t === null) return null;
  return mode === 'wall' ? t : t - (s.t0 ?? t);
}

/** A point's x under the chosen axis, or null when the point has no time and the axis needs one. */
export function xOf(s: SeriesModel, i: number, mode: XMode): number | null {
  return placed(s, s.step[i], s.ts[i], mode);
}

export function markX(
  s: SeriesModel,
  mark: readonly [number, number | null, number],
  mode: XMode,
): number | null {
  return placed(s, mark[0], mark[1], mode);
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
