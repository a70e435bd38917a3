/** Terminal and markdown scorecards, single run or `--compare`. */
import type { Comparison, ComparisonRow } from './compare.js';
import { formatMetricValue } from './format-value.js';
import { markdownGrid, textGrid } from './grid.js';
import { escapeControls, escapeHtmlText } from './safe-text.js';
import type { Report } from './report.js';
import {
  headerFacts,
  malformedLines,
  METRIC_HEADERS,
  metricCells,
  SYSTEM_HEADERS,
  systemCells,
} from './scorecard-rows.js';

export type TextStyle = 'table' | 'markdown';

function grid(style: TextStyle, headers: readonly string[], rows: string[][]): string {
  return style === 'table' ? textGrid(headers, rows) : markdownGrid(headers, rows);
}

function heading(style: TextStyle, text: string, level = 2): string {
  const safe = escapeControls(text);
  return style === 'table' ? safe : `${'#'.repeat(level)} ${escapeHtmlText(safe)}`;
}

function headerBlock(style: TextStyle, report: Report): string {
  const facts = headerFacts(report).map(([k, v]) => [k, escapeControls(v)] as const);
  const out =
    style === 'table'
      ? facts.map(([k, v]) => `  ${k.padEnd(10)}${v}`)
      : [
          '| | |',
          '| --- | --- |',
          ...facts.map(([k, v]) => `| ${k} | ${escapeHtmlText(v.replace(/\|/g, '\\|'))} |`),
        ];
  const bad = malformedLines(report).map(escapeControls);
  if (bad.length > 0) {
    out.push('', style === 'table' ? '  first malformed lines:' : 'First malformed lines:', '');
    // Inside a code span HTML is shown as text already.
    out.push(...bad.map((line) => (style === 'table' ? `    ${line}` : `- \`${line.replace(/`/g, "'")}\``)));
  }
  return out.join('\n');
}

export function formatReportText(report: Report, style: TextStyle): string {
  const title = report.label === '' ? 'codex-ndjson summary' : `codex-ndjson summary: ${report.label}`;
  const parts = [heading(style, title, 1), headerBlock(style, report)];
  for (const { phase, rows } of report.phases) {
    parts.push(heading(style, `${phase} (${rows.length} metrics)`));
    parts.push(grid(style, METRIC_HEADERS, rows.map(metricCells)));
  }
  if (report.system.length > 0) {
    parts.push(heading(style, 'system resources'));
    parts.push(grid(style, SYSTEM_HEADERS, report.system.map(systemCells)));
  }
  return `${parts.join('\n\n')}\n`;
}

export const COMPARE_HEADERS = [
  'metric',
  'last A',
  'last B',
  'Δ last',
  'best A',
  'best B',
  'Δ best',
  'change',
  'better',
];

function signed(value: number | null, name: string): string {
  if (value === null) return '-';
  const text = formatMetricValue(name, value);
  return Number.isFinite(value) && value > 0 ? `+${text}` : text;
}

/** A figure of one run, in the metric's unit; "-" where the run lacks it (not NaN). */
function figure(value: number | null, name: string): string {
  return value === null ? '-' : formatMetricValue(name, value);
}

export function comparisonCells(row: ComparisonRow): string[] {
  return [
    row.name,
    figure(row.lastA, row.name),
    figure(row.lastB, row.name),
    signed(row.deltaLast, row.name),
    row.goal === undefined ? '-' : figure(row.bestA, row.name),
    row.goal === undefined ? '-' : figure(row.bestB, row.name),
    row.goal === undefined ? '-' : signed(row.deltaBest, row.name),
    row.changePercent === null ? '-' : `${signed(Number(row.changePercent.toFixed(2)), '')}%`,
    row.better === '' ? '-' : row.better,
  ];
}

export function formatComparisonText(comparison: Comparison, style: TextStyle): string {
  const { a, b } = comparison;
  const parts = [
    heading(style, `codex-ndjson compare: A = ${a.label}, B = ${b.label}`, 1),
    heading(style, `A: ${a.label}`),
    headerBlock(style, a),
    heading(style, `B: ${b.label}`),
    headerBlock(style, b),
  ];
  for (const phase of ['train', 'eval', 'system'] as const) {
    const rows = comparison.rows.filter((r) => r.phase === phase);
    if (rows.length === 0) continue;
    parts.push(heading(style, `${phase} (${rows.length} metrics)`));
    parts.push(grid(style, COMPARE_HEADERS, rows.map(comparisonCells)));
  }
  return `${parts.join('\n\n')}\n`;
}
