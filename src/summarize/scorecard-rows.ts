/** The cells of a scorecard shared by the text table and markdown: header facts and metric rows. */
import {
  formatBytes,
  formatDuration,
  formatMetricValue,
  formatNumber,
  formatStep,
  formatTime,
} from './format-value.js';
import type { MetricRow, Report, SystemRow } from './report.js';
import { sparkline } from './sparkline.js';

export const METRIC_HEADERS = [
  'metric',
  'count',
  'first',
  'last',
  'min',
  'max',
  'mean',
  'best',
  'best step',
  'non-finite',
  'trend',
];

export function metricCells(row: MetricRow): string[] {
  const value = (v: number): string => formatMetricValue(row.name, v);
  return [
    row.name,
    String(row.count),
    value(row.first),
    value(row.last),
    value(row.min),
    value(row.max),
    value(row.mean),
    row.goal === undefined ? '-' : `${value(row.best)} (${row.goal})`,
    formatStep(row.bestStep),
    String(row.nonFinite),
    sparkline(row.sample.values),
  ];
}

export const SYSTEM_HEADERS = ['resource', 'mean', 'peak'];

function systemValue(unit: SystemRow['unit'], value: number): string {
  if (unit === 'bytes') return formatBytes(value);
  if (unit === 'watts') return `${formatNumber(Number(value.toFixed(1)))} W`;
  return `${formatNumber(Number(value.toFixed(1)))}%`;
}

export function systemCells(row: SystemRow): string[] {
  return [row.label, systemValue(row.unit, row.mean), systemValue(row.unit, row.peak)];
}

/** `[label, value]` pairs of the run header. */
export function headerFacts(report: Report): [string, string][] {
  const facts: [string, string][] = [];
  facts.push(['runs', report.runIds.length > 0 ? report.runIds.join(', ') : '-']);
  facts.push([
    'time',
    Number.isFinite(report.tsMin)
      ? `${formatTime(report.tsMin)} → ${formatTime(report.tsMax)} (${formatDuration(report.tsMax - report.tsMin)})`
      : '-',
  ]);
  facts.push([
    'steps',
    report.steps.length > 0
      ? report.steps.map((s) => `${s.phase} ${formatStep(s.min)}..${formatStep(s.max)}`).join(' · ')
      : '-',
  ]);
  facts.push(['files', String(report.files.length)]);
  facts.push(['lines', String(report.lines)]);
  facts.push(['bytes', formatBytes(report.bytes)]);
  facts.push(['malformed', String(report.malformed)]);
  const source = report.source;
  if (source !== undefined) {
    const kind = source.kind === 'wandb' ? 'W&B run' : 'TensorBoard run';
    facts.push([
      'source',
      `${kind} ${source.name}${source.id !== undefined && source.id !== source.name ? ` (id ${source.id})` : ''}`,
    ]);
    if (source.state !== undefined) {
      facts.push([
        'state',
        `${source.state}${source.exitCode !== undefined ? `, exit code ${source.exitCode}` : ''}`,
      ]);
    }
    if (source.config !== undefined && Object.keys(source.config).length > 0)
      facts.push(['config', oneLine(source.config)]);
    if (source.summary !== undefined) {
      const shown = Object.fromEntries(
        Object.entries(source.summary).filter(([key]) => !key.startsWith('_')),
      );
      if (Object.keys(shown).length > 0) facts.push(['summary', oneLine(shown)]);
    }
    if (source.notShown.length > 0) {
      facts.push(['not shown', source.notShown.map(({ key, kind }) => `${key} (${kind})`).join(', ')]);
    }
  }
  return facts;
}

/** Config and summary values on one header line, non-finite numbers by name, cut at 200 characters. */
function oneLine(value: Record<string, unknown>): string {
  const text = JSON.stringify(value, (_key, v: unknown) =>
    typeof v === 'number' && !Number.isFinite(v) ? String(v) : v,
  );
  return text.length > 200 ? `${text.slice(0, 199)}…` : text;
}

export function malformedLines(report: Report): string[] {
  return report.malformedReports.map((r) => `${r.file}:${r.line}: ${r.field}: ${r.reason}`);
}
