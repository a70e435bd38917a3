/** Lays out one or more reports (one per run), an optional per-rank view, or N-way comparisons. */
import type { Comparison } from './compare.js';
import { cell, formatComparisonCsv, formatReportCsv } from './format-csv.js';
import { formatComparisonHtml, formatReportHtml, type InteractiveCharts } from './format-html.js';
import { formatComparisonJson, formatReportJson } from './format-json.js';
import { formatComparisonText, formatReportText } from './format-table.js';
import { markdownGrid, textGrid } from './grid.js';
import type { Format } from './parse-args.js';
import { RANK_HEADERS, rankCells, slowestLine, type RankView } from './rank-view.js';
import type { Report } from './report.js';

function rankSection(format: Format, view: RankView): string {
  const rows = view.rows.map(rankCells);
  if (format === 'markdown')
    return `## ranks (${view.ranks.length})\n\n${slowestLine(view)}\n\n${markdownGrid(RANK_HEADERS, rows)}\n`;
  return `ranks (${view.ranks.length})\n\n${slowestLine(view)}\n\n${textGrid(RANK_HEADERS, rows)}\n`;
}

/** CSV of several runs: one header, a leading run_id column. */
function csvRuns(reports: readonly Report[]): string {
  return reports
    .map((report, i) => {
      const id = cell(report.runIds[0] ?? '');
      const lines = formatReportCsv(report)
        .split('\r\n')
        .filter((line) => line !== '');
      const body = lines.slice(1).map((line) => `${id},${line}`);
      return [...(i === 0 ? [`run_id,${lines[0] ?? ''}`] : []), ...body].join('\r\n');
    })
    .join('\r\n')
    .concat('\r\n');
}

export function renderReports(
  format: Format,
  reports: readonly Report[],
  ranks: RankView | undefined,
  interactive?: InteractiveCharts,
): string {
  const single = reports.length === 1;
  switch (format) {
    case 'table':
    case 'markdown': {
      const text = reports.map((r) => formatReportText(r, format)).join('\n');
      return ranks === undefined ? text : `${text}\n${rankSection(format, ranks)}`;
    }
    case 'json': {
      if (single && ranks === undefined) return formatReportJson(reports[0] as Report);
      // Spliced as text: each part keeps its exact (bigint) steps.
      const runs = reports.map((r) => formatReportJson(r).trim()).join(',\n');
      const rankJson = ranks === undefined ? '' : `,\n"ranks": ${JSON.stringify(ranks)}`;
      return `{"schema": "codex-ndjson-summaries/1",\n"runs": [\n${runs}\n]${rankJson}}\n`;
    }
    case 'csv':
      return single ? formatReportCsv(reports[0] as Report) : csvRuns(reports);
    case 'html':
      return reports.map((r) => formatReportHtml(r, interactive)).join('\n');
  }
}

export function renderComparisons(
  format: Format,
  comparisons: readonly Comparison[],
  interactive?: InteractiveCharts,
): string {
  switch (format) {
    case 'json':
      if (comparisons.length === 1) return formatComparisonJson(comparisons[0] as Comparison);
      return `{"schema": "codex-ndjson-compares/1",\n"comparisons": [\n${comparisons
        .map((c) => formatComparisonJson(c).trim())
        .join(',\n')}\n]}\n`;
    case 'csv':
      return comparisons.map(formatComparisonCsv).join('');
    case 'html':
      return comparisons.map((c) => formatComparisonHtml(c, interactive)).join('\n');
    case 'table':
    case 'markdown':
      return comparisons.map((c) => formatComparisonText(c, format)).join('\n');
  }
}
