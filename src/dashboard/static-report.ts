/**
 * The dashboard inside one self-contained HTML file (`summarize --format html`): the same bundled
 * chart code and stylesheet inlined, the charts' data embedded as JSON, and a Content-Security-
 * Policy that allows exactly those inline blocks by hash, so it opens from file:// with no network.
 */
import type { Phase } from '../step.js';
import { cspHash, inlineAssets, MISSING_ASSETS } from './assets.js';
import { chartPlace, compareSections } from './chart-key.js';
import {
  colorOf,
  NF_NAN,
  NF_NEG_INF,
  NF_POS_INF,
  type ChartModel,
  type NonFiniteMark,
  type SeriesModel,
  type StaticModel,
} from './chart-model.js';
import { systemUnit } from './system-unit.js';

/** One metric of a run as a static page charts it: a bounded sample of its points. */
export interface SampledMetric {
  readonly phase: Phase;
  readonly name: string;
  /** Points logged, of which `sample` holds a bounded selection. */
  readonly count: number;
  readonly sample: { readonly steps: readonly number[]; readonly values: readonly number[] };
}

/** A run's metrics, as a report (`codex-ndjson summarize`) hands them to a static page. */
export interface SampledRun {
  readonly run: string;
  readonly metrics: readonly SampledMetric[];
}

function series(
  run: string,
  color: string,
  row: SampledMetric,
  dashed: boolean,
): { metric: string; section: string; unit: string | undefined; model: SeriesModel } {
  const place = chartPlace(row.phase, row.name);
  const out: SeriesModel = {
    id: [run, place.phase, place.sub].filter((p) => p !== '').join(' · '),
    run,
    phase: place.phase,
    label: [run, place.phase, place.sub].filter((p) => p !== '').join(' · '),
    color,
    dashed: dashed || place.phase === 'eval',
    rank: null,
    band: false,
    step: [],
    ts: [],
    y: [],
    marks: [],
    points: row.count,
    nan: 0,
    posInf: 0,
    negInf: 0,
    t0: null,
  };
  const { steps, values } = row.sample;
  values.forEach((value, i) => {
    const step = steps[i] as number;
    if (Number.isFinite(value)) {
      out.step.push(step);
      out.y.push(value);
      return;
    }
    const bit = value === Infinity ? NF_POS_INF : value === -Infinity ? NF_NEG_INF : NF_NAN;
    if (bit === NF_POS_INF) out.posInf++;
    else if (bit === NF_NEG_INF) out.negInf++;
    else out.nan++;
    out.marks.push([step, null as unknown as number, bit] satisfies NonFiniteMark);
  });
  const unit = row.phase === 'system' ? systemUnit(row.name) : undefined;
  return { metric: place.metric, section: place.section, unit, model: out };
}

/** The charts of one or more runs (a comparison passes two), one chart per metric name. */
export function staticModel(title: string, runs: readonly SampledRun[]): StaticModel {
  const charts = new Map<string, ChartModel>();
  runs.forEach(({ run, metrics }, i) => {
    for (const row of metrics) {
      const { metric, section, unit, model } = series(run, colorOf(i), row, false);
      const chart = charts.get(metric) ?? {
        metric,
        section,
        ...(unit === undefined ? {} : { unit }),
        series: [],
      };
      chart.series.push(model);
      charts.set(metric, chart);
    }
  });
  const sorted = [...charts.values()].sort(
    (a, b) =>
      compareSections(a.section, b.section) || (a.metric < b.metric ? -1 : a.metric > b.metric ? 1 : 0),
  );
  return {
    title,
    runs: runs.map(({ run }, i) => ({ name: run, color: colorOf(i), ranks: [0] })),
    charts: sorted,
  };
}

/** JSON inside <script> must not close the element early. */
function embedJson(id: string, json: string): string {
  return `<script type="application/json" id="${id}">${json.replace(/</g, '\\u003c')}</script>`;
}

export interface InlineDashboard {
  /** `<meta>` CSP and the inline stylesheet, for `<head>`. */
  head: string;
  /** The chart container, its data and the script, for `<body>`. */
  body: string;
}

/**
 * The interactive charts for a static page. `pageStyles` are the page's other inline `<style>`
 * contents, which the CSP must allow too. A string (why not) when the package was not built.
 */
export function inlineDashboard(model: StaticModel, pageStyles: readonly string[]): InlineDashboard | string {
  const assets = inlineAssets();
  if (assets === undefined) return MISSING_ASSETS;
  const { js, css } = assets;
  const csp = [
    "default-src 'none'",
    `script-src ${cspHash(js)}`,
    `style-src ${[css, ...pageStyles].map(cspHash).join(' ')}`,
    'img-src data: blob:',
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
  return {
    head: `<meta http-equiv="Content-Security-Policy" content="${csp}"><style>${css}</style>`,
    body: `<main id="dashboard"></main>\n${embedJson('codex-dashboard-data', JSON.stringify(model))}\n<script>${js}</script>`,
  };
}

/**
 * The dashboard's charts for runs on a static page: what `codex-ndjson summarize --format html`
 * embeds (the CLI hands this to summarize, which knows nothing of the dashboard).
 */
export function staticCharts(
  title: string,
  runs: readonly SampledRun[],
  pageStyles: readonly string[],
): InlineDashboard | string {
  return inlineDashboard(staticModel(title, runs), pageStyles);
}
