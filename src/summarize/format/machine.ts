/** `json` and `csv` renderings: exact steps (int64 digits) and non-finite values as strings. */
import type { Scorecard } from '../scorecard.js';

/** JSON with bigint steps written as exact integer digits and NaN/±Infinity as strings. */
export function renderJson(card: Scorecard): string {
  const marker = '@@codex-bigint@@';
  const text = JSON.stringify(
    {
      ...card,
      metrics: card.metrics.map(({ points, ...row }) => ({ ...row, points: points.values.length })),
    },
    (_key, value: unknown) => {
      if (typeof value === 'bigint') return `${marker}${value}`;
      if (typeof value === 'number' && !Number.isFinite(value))
        return Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity';
      return value;
    },
    2,
  );
  return `${text.replace(new RegExp(`"${marker}(-?\\d+)"`, 'g'), '$1')}\n`;
}

function csvCell(value: unknown): string {
  const text =
    typeof value === 'number' && !Number.isFinite(value)
      ? Number.isNaN(value)
        ? 'NaN'
        : value > 0
          ? 'Infinity'
          : '-Infinity'
      : String(value ?? '');
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function renderCsv(card: Scorecard): string {
  const header = [
    'phase',
    'metric',
    'count',
    'first',
    'first_step',
    'last',
    'last_step',
    'min',
    'max',
    'mean',
    'goal',
    'best',
    'best_step',
    'non_finite',
  ];
  const rows = card.metrics.map((row) => [
    row.phase,
    row.name,
    row.count,
    row.first,
    row.firstStep,
    row.last,
    row.lastStep,
    row.min,
    row.max,
    row.mean,
    row.goal ?? '',
    row.best?.value ?? '',
    row.best?.step ?? '',
    row.nonFinite,
  ]);
  return `${[header, ...rows].map((row) => row.map(csvCell).join(',')).join('\n')}\n`;
}
