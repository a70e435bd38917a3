/**
 * The per-rank view of a multi-rank input: per metric, the spread of the ranks' means (min,
 * median, max, and which ranks hold the extremes), and the slowest rank by seconds per step.
 */
import { formatMetricValue, formatNumber } from './format-value.js';
import type { RunSummary } from './summary-types.js';
import type { Phase } from '../step.js';

export interface RankRow {
  phase: Phase;
  name: string;
  ranks: number;
  min: number;
  minRank: number;
  median: number;
  max: number;
  maxRank: number;
}

export interface RankView {
  ranks: number[];
  rows: RankRow[];
  /** Seconds per train step of each rank, from its timestamps and steps; NaN when unknown. */
  stepSeconds: { rank: number; seconds: number }[];
  slowest: { rank: number; seconds: number } | undefined;
}

function stepSeconds(summary: RunSummary): number {
  const train = summary.steps.find((s) => s.phase === 'train');
  if (train === undefined || !Number.isFinite(summary.tsMin)) return NaN;
  const steps = Number(train.max) - Number(train.min);
  return steps > 0 ? (summary.tsMax - summary.tsMin) / steps : NaN;
}

export function buildRankView(byRank: readonly RunSummary[]): RankView {
  const perMetric = new Map<string, { phase: Phase; name: string; values: [number, number][] }>();
  for (const summary of byRank) {
    const rank = summary.rank ?? 0;
    for (const m of summary.metrics) {
      if (m.phase === 'system') continue;
      const finite = m.count - m.nonFinite;
      if (finite === 0) continue;
      const key = `${m.phase}\0${m.name}`;
      const entry = perMetric.get(key) ?? { phase: m.phase, name: m.name, values: [] };
      entry.values.push([rank, (m.sum + m.sumCompensation) / finite]);
      perMetric.set(key, entry);
    }
  }
  const rows = [...perMetric.values()]
    .sort((a, b) => (a.phase + a.name < b.phase + b.name ? -1 : 1))
    .map(({ phase, name, values }): RankRow => {
      const sorted = [...values].sort((a, b) => a[1] - b[1]);
      const mid = sorted.length >> 1;
      const median =
        sorted.length % 2 === 1
          ? (sorted[mid] as [number, number])[1]
          : ((sorted[mid - 1] as [number, number])[1] + (sorted[mid] as [number, number])[1]) / 2;
      const lo = sorted[0] as [number, number];
      const hi = sorted[sorted.length - 1] as [number, number];
      return {
        phase,
        name,
        ranks: values.length,
        min: lo[1],
        minRank: lo[0],
        median,
        max: hi[1],
        maxRank: hi[0],
      };
    });
  const times = byRank.map((s) => ({ rank: s.rank ?? 0, seconds: stepSeconds(s) }));
  const known = times.filter((t) => Number.isFinite(t.seconds));
  const slowest = known.reduce<RankView['slowest']>(
    (a, t) => (a === undefined || t.seconds > a.seconds ? t : a),
    undefined,
  );
  return { ranks: byRank.map((s) => s.rank ?? 0), rows, stepSeconds: times, slowest };
}

export const RANK_HEADERS = ['metric', 'ranks', 'min', 'min rank', 'median', 'max', 'max rank'];

export function rankCells(row: RankRow): string[] {
  const value = (v: number): string => formatMetricValue(row.name, v);
  return [
    `${row.phase}/${row.name}`,
    String(row.ranks),
    value(row.min),
    String(row.minRank),
    value(row.median),
    value(row.max),
    String(row.maxRank),
  ];
}

export function slowestLine(view: RankView): string {
  if (view.slowest === undefined) return 'slowest rank: unknown (no timestamps with train steps)';
  const all = view.stepSeconds.map(
    (t) => `rank ${t.rank} ${formatNumber(Number(t.seconds.toPrecision(4)))} s`,
  );
  return `slowest rank by step time: rank ${view.slowest.rank} (${formatNumber(Number(view.slowest.seconds.toPrecision(4)))} s/step; ${all.join(', ')})`;
}
