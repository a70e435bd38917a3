/** CSV (RFC 4180): one row per phase and metric, or per compared metric. */
import type { Comparison } from './compare.js';
import type { Report } from './report.js';
import { guardFormula } from './safe-text.js';
import type { Step } from '../step.js';

/** One CSV cell; text from the files (names, labels) is guarded against formula injection. */
export function cell(value: string | number | bigint | null | undefined): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'number' && Number.isNaN(value)) return 'NaN';
  if (typeof value === 'number' && !Number.isFinite(value)) return value > 0 ? 'Infinity' : '-Infinity';
  const text = typeof value === 'string' ? guardFormula(value) : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

const step = (s: Step): string | number | bigint => (s === s ? s : '');

function csv(rows: (string | number | bigint | null | undefined)[][]): string {
  return rows.map((r) => r.map(cell).join(',')).join('\r\n') + '\r\n';
}

export function formatReportCsv(report: Report): string {
  const rows: (string | number | bigint | undefined)[][] = [
    [
      'phase',
      'metric',
      'count',
      'first',
      'last',
      'last_step',
      'min',
      'max',
      'mean',
      'goal',
      'best',
      'best_step',
      'non_finite',
    ],
  ];
  for (const { rows: metrics } of report.phases) {
    for (const r of metrics)
      rows.push([
        r.phase,
        r.name,
        r.count,
        r.first,
        r.last,
        step(r.lastStep),
        r.min,
        r.max,
        r.mean,
        r.goal ?? '',
        r.goal === undefined ? '' : r.best,
        step(r.bestStep),
        r.nonFinite,
      ]);
  }
  return csv(rows);
}

export function formatComparisonCsv(comparison: Comparison): string {
  const rows: (string | number | bigint | null | undefined)[][] = [
    [
      'phase',
      'metric',
      'goal',
      'last_a',
      'last_b',
      'delta_last',
      'best_a',
      'best_b',
      'delta_best',
      'change_percent',
      'better',
    ],
  ];
  for (const r of comparison.rows)
    rows.push([
      r.phase,
      r.name,
      r.goal ?? '',
      r.lastA,
      r.lastB,
      r.deltaLast,
      r.goal === undefined ? '' : r.bestA,
      r.goal === undefined ? '' : r.bestB,
      r.goal === undefined ? '' : r.deltaBest,
      r.changePercent,
      r.better,
    ]);
  return csv(rows);
}
