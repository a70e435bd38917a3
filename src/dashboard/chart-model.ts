/**
 * What the page draws, as plain JSON: the server's `/api/chart` answer and the data embedded in a
 * static `summarize --format html` report have this one shape, so one client draws both.
 */

import type { Phase } from '../step.js';

/** Bits of the non-finite values a point or bucket saw: one definition for server, report and page. */
export const NF_NAN = 1;
export const NF_POS_INF = 2;
export const NF_NEG_INF = 4;

/** A non-finite value to draw at the plot's edge: [step, time, NF_* bits]. */
export type NonFiniteMark = [number, number, number];

export interface SeriesModel {
  /** Stable within a chart: run, phase, sub-series (GPU index) and rank. */
  id: string;
  run: string;
  phase: Phase;
  /** Text for legends; always inserted as text, never as HTML. */
  label: string;
  color: string;
  dashed: boolean;
  /** null: the run's only rank, or the median of its ranks when `band` is true. */
  rank: number | null;
  /** A rank group: `y` is the median over ranks, `lo`/`hi` the min–max band. */
  band: boolean;
  step: number[];
  /** Unix seconds per point; empty when the input had no times. */
  ts: number[];
  y: number[];
  lo?: number[];
  hi?: number[];
  marks: NonFiniteMark[];
  /** Points read (before downsampling), and the non-finite ones among them. */
  points: number;
  nan: number;
  posInf: number;
  negInf: number;
  /** Time of the series' first point: the origin of the relative-time axis; null when unknown. */
  t0: number | null;
  /** A zoomed chart (`/api/zoom`): how this series was read for the window. */
  zoom?: ZoomInfo;
  /**
   * A system series only: its run's training steps against time (ascending time, cut to the
   * chart's width), which places each sample at the training step logged at its time. Absent when
   * the run logged no training step with a time.
   */
  clock?: RunClock;
}

/**
 * exact: every row in the window, as logged; envelope: run-index buckets of `level`, about one a
 * pixel column; memory: the buckets the dashboard holds (a series with no run index to read).
 */
export interface ZoomInfo {
  mode: 'exact' | 'envelope' | 'memory';
  /** Rows in the window (exact), or held by the buckets drawn. */
  rows: number;
  level?: number;
}

/** Training step against time: `step[i]` was logged at `ts[i]` (Unix seconds, ascending). */
export interface RunClock {
  ts: number[];
  step: number[];
}

export interface ChartModel {
  /** The chart's name (`loss`, `system/cpu_percent`, `system/gpu util_percent`). */
  metric: string;
  /** Heading the chart is listed under: `scalars`, `system: cpu`, `system: gpu`... */
  section: string;
  /** The unit of a system chart, from the system key tables (`By`, `By/s`, `%`, `W`, `°C`...). */
  unit?: string;
  series: SeriesModel[];
  /** The step window of a zoomed chart. */
  window?: [number, number];
}

export interface RunModel {
  name: string;
  color: string;
  ranks: number[];
  /** The exit code of a run known to have ended (a W&B run's exit record); absent while unknown. */
  exitCode?: number;
}

export interface IndexModel {
  version: number;
  runs: RunModel[];
  /** A page of the charts (see `total` and `offset`), in page order. */
  charts: { metric: string; section: string }[];
  /** Charts matching the query in all; more than `charts` holds when the list was cut. */
  total?: number;
  /** Matching charts before this page. */
  offset?: number;
  /** A filtered answer: names searched, and whether the search stopped at its time budget first. */
  searched?: number;
  stopped?: boolean;
  /** Malformed lines skipped so far, over all streams. */
  malformed: number;
  /** What the server reads (folders, files, globs): an empty page says it waits for runs there. */
  inputs?: string[];
}

/** The data embedded in a static report. */
export interface StaticModel {
  title: string;
  runs: RunModel[];
  charts: ChartModel[];
}

/** Ten distinguishable colours (Tableau 10), assigned to runs in order. */
export const PALETTE = [
  '#4e79a7',
  '#f28e2b',
  '#e15759',
  '#76b7b2',
  '#59a14f',
  '#edc948',
  '#b07aa1',
  '#ff9da7',
  '#9c755f',
  '#bab0ac',
] as const;

export function colorOf(index: number): string {
  return PALETTE[index % PALETTE.length] as string;
}
