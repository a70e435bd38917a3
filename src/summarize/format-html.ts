/**
 * A self-contained HTML report: the scorecard tables, then one chart per metric with train and
 * eval overlaid (or run A and B overlaid for a comparison). The charts are the live dashboard's
 * (smoothing, log scale, zoom, hover), inlined with their data, so the file opens offline from
 * file://; inline SVG charts stay underneath for printing and for readers without scripts. The
 * report's data is embedded as JSON in a `<script type="application/json">` for tools.
 */
import type { Comparison } from './compare.js';
import { toJson } from './format-json.js';
import { COMPARE_HEADERS, comparisonCells } from './format-table.js';
import type { MetricRow, Report } from './report.js';
import {
  headerFacts,
  malformedLines,
  METRIC_HEADERS,
  metricCells,
  SYSTEM_HEADERS,
  systemCells,
} from './scorecard-rows.js';
import { escapeXml, lineChart, type ChartSeries } from './svg-chart.js';
import type { Phase } from '../step.js';

/**
 * Interactive charts for the page (the dashboard's, handed in by the CLI): `head` and `body`
 * fragments, or a string saying why there are none. Without it the page has its SVG charts only.
 */
export type InteractiveCharts = (
  title: string,
  runs: readonly { run: string; metrics: readonly MetricRow[] }[],
  pageStyles: readonly string[],
) => { head: string; body: string } | string;

const COLORS: Record<Phase, string> = { train: '#1f77b4', eval: '#ff7f0e', system: '#2ca02c' };
const STYLE = `body{font:14px system-ui,sans-serif;margin:24px;color:#222}table{border-collapse:collapse;margin:8px 0 24px}
td,th{padding:3px 8px;border-bottom:1px solid #eee;text-align:right}td:first-child,th:first-child{text-align:left}
.charts{display:flex;flex-wrap:wrap;gap:16px}.chart h3{font-size:13px;margin:4px 0}`;

function table(headers: readonly string[], rows: string[][]): string {
  const head = `<tr>${headers.map((h) => `<th>${escapeXml(h)}</th>`).join('')}</tr>`;
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${escapeXml(c)}</td>`).join('')}</tr>`).join('\n');
  return `<table>${head}\n${body}</table>`;
}

/** JSON inside <script> must not close the element early. */
function embed(json: string): string {
  return `<script type="application/json" id="codex-summary">${json.replace(/</g, '\\u003c')}</script>`;
}

function page(
  title: string,
  body: string,
  data: string,
  runs: readonly { run: string; report: Report }[],
  interactive: InteractiveCharts | undefined,
): string {
  const metrics = runs.map(({ run, report }) => ({ run, metrics: report.phases.flatMap((p) => p.rows) }));
  const live = interactive?.('charts', metrics, [STYLE]) ?? 'not part of this build';
  const [head, charts] =
    typeof live === 'string'
      ? ['', `<p>Interactive charts unavailable: ${escapeXml(live)}.</p>`]
      : [live.head, live.body];
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8">${head}<title>${escapeXml(title)}</title><style>${STYLE}</style></head>\n<body>\n<h1>${escapeXml(title)}</h1>\n${body}\n${charts}\n${embed(data)}\n</body></html>\n`;
}

function header(report: Report): string {
  const facts = table(['', ''], headerFacts(report));
  const bad = malformedLines(report);
  return bad.length === 0
    ? facts
    : `${facts}<p>First malformed lines:</p><ul>${bad.map((l) => `<li><code>${escapeXml(l)}</code></li>`).join('')}</ul>`;
}

function chart(title: string, series: ChartSeries[]): string {
  return `<div class="chart" data-metric="${escapeXml(title)}"><h3>${escapeXml(title)}</h3>${lineChart(title, series)}</div>`;
}

/** Train and eval share a chart when a name occurs in both; system metrics get their own. */
function charts(report: Report, seriesLabel = (phase: Phase): string => phase): string {
  const byName = new Map<string, ChartSeries[]>();
  for (const { phase, rows } of report.phases) {
    for (const row of rows) {
      const key = phase === 'system' ? `system/${row.name}` : row.name;
      const list = byName.get(key) ?? [];
      list.push({
        label: seriesLabel(phase),
        color: COLORS[phase],
        steps: row.sample.steps,
        values: row.sample.values,
      });
      byName.set(key, list);
    }
  }
  return `<div class="charts dash-fallback">${[...byName].map(([name, series]) => chart(name, series)).join('\n')}</div>`;
}

export function formatReportHtml(report: Report, interactive?: InteractiveCharts): string {
  const sections = [header(report)];
  for (const { phase, rows } of report.phases)
    sections.push(`<h2>${phase} (${rows.length} metrics)</h2>`, table(METRIC_HEADERS, rows.map(metricCells)));
  if (report.system.length > 0)
    sections.push('<h2>system resources</h2>', table(SYSTEM_HEADERS, report.system.map(systemCells)));
  sections.push('<h2 class="dash-fallback">charts</h2>', charts(report));
  const title = report.label === '' ? 'codex-ndjson summary' : `codex-ndjson summary: ${report.label}`;
  const run = report.label === '' ? 'run' : report.label;
  return page(title, sections.join('\n'), toJson(report), [{ run, report }], interactive);
}

export function formatComparisonHtml(comparison: Comparison, interactive?: InteractiveCharts): string {
  const { a, b } = comparison;
  const sections = [
    `<h2>A: ${escapeXml(a.label)}</h2>`,
    header(a),
    `<h2>B: ${escapeXml(b.label)}</h2>`,
    header(b),
  ];
  for (const phase of ['train', 'eval', 'system'] as const) {
    const rows = comparison.rows.filter((r) => r.phase === phase);
    if (rows.length > 0)
      sections.push(`<h2>${phase}</h2>`, table(COMPARE_HEADERS, rows.map(comparisonCells)));
  }
  const series = new Map<string, ChartSeries[]>();
  for (const [run, report, dashed] of [
    ['A', a, false],
    ['B', b, true],
  ] as const) {
    for (const { phase, rows } of report.phases) {
      for (const row of rows) {
        const key = `${phase}/${row.name}`;
        const list = series.get(key) ?? [];
        list.push({
          label: `${run} ${phase}`,
          color: run === 'A' ? '#1f77b4' : '#d62728',
          steps: row.sample.steps,
          values: row.sample.values,
          dashed,
        });
        series.set(key, list);
      }
    }
  }
  sections.push(
    '<h2 class="dash-fallback">charts</h2>',
    `<div class="charts dash-fallback">${[...series].map(([n, s]) => chart(n, s)).join('\n')}</div>`,
  );
  return page(
    `codex-ndjson compare: ${a.label} vs ${b.label}`,
    sections.join('\n'),
    toJson(comparison),
    [
      { run: `A ${a.label}`, report: a },
      { run: `B ${b.label}`, report: b },
    ],
    interactive,
  );
}
