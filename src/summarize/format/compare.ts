/** `--compare A B`: the two runs' scorecards side by side, with B − A deltas. */
import type { MetricRow, Scorecard } from '../scorecard.js';
import { alignTable, markdownTable } from './text.js';
import { formatStep, formatValue } from './values.js';

export interface ComparisonRow {
  phase: string;
  name: string;
  goal: string;
  a: MetricRow | undefined;
  b: MetricRow | undefined;
  lastDelta: number | undefined;
  bestDelta: number | undefined;
  /** Whether B is better than A on this metric's goal (best values), when known. */
  better: boolean | undefined;
}

export function compareScorecards(a: Scorecard, b: Scorecard): ComparisonRow[] {
  const key = (row: MetricRow): string => `${row.phase}\u0000${row.name}`;
  const left = new Map(a.metrics.filter((r) => r.phase !== 'system').map((row) => [key(row), row]));
  const right = new Map(b.metrics.filter((r) => r.phase !== 'system').map((row) => [key(row), row]));
  const keys = [...new Set([...left.keys(), ...right.keys()])];
  return keys.map((k) => {
    const ra = left.get(k);
    const rb = right.get(k);
    const any = (ra ?? rb) as MetricRow;
    const lastDelta = ra && rb ? rb.last - ra.last : undefined;
    const bestDelta = ra?.best && rb?.best ? rb.best.value - ra.best.value : undefined;
    const goal = any.goal;
    const better =
      bestDelta === undefined || goal === undefined || bestDelta === 0
        ? undefined
        : goal === 'min'
          ? bestDelta < 0
          : bestDelta > 0;
    return { phase: any.phase, name: any.name, goal: goal ?? '', a: ra, b: rb, lastDelta, bestDelta, better };
  });
}

const HEADER = [
  'phase',
  'metric',
  'goal',
  'A last',
  'B last',
  'Δ last',
  'A best (step)',
  'B best (step)',
  'Δ best',
  'B better',
];

function cells(rows: ComparisonRow[]): string[][] {
  const best = (row: MetricRow | undefined): string =>
    row?.best ? `${formatValue(row.best.value)} (${formatStep(row.best.step)})` : '';
  const signed = (value: number | undefined): string =>
    value === undefined ? '' : `${value > 0 ? '+' : ''}${formatValue(value)}`;
  return rows.map((row) => [
    row.phase,
    row.name,
    row.goal,
    formatValue(row.a?.last),
    formatValue(row.b?.last),
    signed(row.lastDelta),
    best(row.a),
    best(row.b),
    signed(row.bestDelta),
    row.better === undefined ? '' : row.better ? 'yes' : 'no',
  ]);
}

export function renderComparison(
  rows: ComparisonRow[],
  format: 'table' | 'markdown',
  labels: [string, string],
): string {
  const title = `A: ${labels[0]}\nB: ${labels[1]}`;
  return format === 'markdown'
    ? `${title
        .split('\n')
        .map((l) => `- ${l}`)
        .join('\n')}\n\n${markdownTable(HEADER, cells(rows))}\n`
    : `${title}\n\n${alignTable(HEADER, cells(rows))}\n`;
}
