/**
 * The `/api/chart` answer: every line of one chart cut to the chart's pixel width. A run with one
 * rank is one series; a run with several is a median-and-band series plus one series per rank
 * (the page shows those on request).
 */
import type { BucketSeries } from './bucket-series.js';
import type { ChartModel, RunClock, SeriesModel } from './chart-model.js';
import { bandLine, pixelLine, stepExtent, type PixelLine } from './pixel-downsample.js';
import { runClock } from './run-clock.js';
import type { Chart, Line, SeriesStore } from './series-store.js';

/** Widths outside this range are clamped: a request cannot make the server build huge answers. */
export const MIN_WIDTH = 16;
export const MAX_WIDTH = 4096;

const PHASES = ['train', 'eval', 'system'];

export interface ChartQuery {
  width: number;
  /** Step range to show; default the whole chart. */
  from?: number;
  to?: number;
  /** At most this many lines, the first in legend order; default every line. */
  lines?: number;
}

function counts(
  series: readonly BucketSeries[],
): Pick<SeriesModel, 'points' | 'nan' | 'posInf' | 'negInf' | 't0'> {
  let t0 = NaN;
  const out = { points: 0, nan: 0, posInf: 0, negInf: 0 };
  for (const s of series) {
    out.points += s.points;
    out.nan += s.nan;
    out.posInf += s.posInf;
    out.negInf += s.negInf;
    if (!(s.firstTs >= t0)) t0 = Number.isNaN(t0) ? s.firstTs : Math.min(t0, s.firstTs);
  }
  return { ...out, t0: Number.isFinite(t0) ? t0 : null };
}

export function model(
  line: Line,
  data: PixelLine,
  extra: Partial<SeriesModel>,
  color: string,
  series: BucketSeries[],
): SeriesModel {
  const rank = extra.rank ?? null;
  const parts = [line.run, line.phase, line.sub, rank === null ? '' : `rank ${rank}`].filter((p) => p !== '');
  return {
    id: parts.join(' · '),
    run: line.run,
    phase: line.phase,
    label: parts.join(' · '),
    color,
    dashed: line.phase === 'eval',
    rank,
    band: false,
    step: data.step,
    // A time the input lacked stays NaN here: JSON.stringify writes it as null (JSON has no NaN), as
    // does the binary answer's decoder (chart-binary.ts), and the page skips it. Not copied to
    // nulls: 100 lines of 1,176 times a chart were as many boxed numbers to collect.
    ts: data.ts,
    y: data.y,
    marks: data.marks.map(([x, t, bits]) => [x, Number.isFinite(t) ? t : (null as unknown as number), bits]),
    ...counts(series),
    ...extra,
  };
}

export function chartData(store: SeriesStore, metric: string, query: ChartQuery): ChartModel | undefined {
  const chart = store.chart(metric);
  if (chart === undefined) return undefined;
  const width = Math.min(MAX_WIDTH, Math.max(MIN_WIDTH, Math.round(query.width)));
  const all = [...chart.lines.values()].flatMap((line) => [...line.ranks.values()]);
  const [lo, hi] = stepExtent(all);
  const from = query.from ?? lo;
  const to = query.to ?? hi;
  const series: SeriesModel[] = [];
  // System samples carry their time, not the training step: each run's clock places them on it.
  const clocks = new Map<string, RunClock | undefined>();
  const clockOf = (run: string): Partial<SeriesModel> => {
    if (!clocks.has(run)) clocks.set(run, runClock(store, run, width));
    const clock = clocks.get(run);
    return clock === undefined ? {} : { clock };
  };
  for (const line of sortedLines(chart).slice(0, query.lines)) {
    const color = store.runs.get(line.run)?.color ?? '#444';
    const clock = line.phase === 'system' ? clockOf(line.run) : {};
    const ranks = [...line.ranks].sort((a, b) => a[0] - b[0]);
    if (ranks.length === 1) {
      const only = ranks[0]?.[1] as BucketSeries;
      series.push(model(line, pixelLine(only, width, from, to), clock, color, [only]));
      continue;
    }
    const members = ranks.map(([, s]) => s);
    const band = bandLine(members, width, from, to);
    series.push(model(line, band, { band: true, lo: band.lo, hi: band.hi, ...clock }, color, members));
    for (const [rank, s] of ranks)
      series.push(model(line, pixelLine(s, width, from, to), { rank, ...clock }, color, [s]));
  }
  const unit = chart.unit === undefined ? {} : { unit: chart.unit };
  return { metric: chart.metric, section: chart.section, ...unit, series };
}

/** A chart's lines in legend order: by run, then phase, then sub-series. */
export function sortedLines(chart: Chart): Line[] {
  return [...chart.lines.values()].sort(
    (a, b) =>
      (a.run < b.run ? -1 : a.run > b.run ? 1 : 0) ||
      PHASES.indexOf(a.phase) - PHASES.indexOf(b.phase) ||
      (a.sub < b.sub ? -1 : a.sub > b.sub ? 1 : 0),
  );
}
