/**
 * `--compare A B`: the two runs' scorecards side by side, metric by metric, with the change from A
 * to B of the last and best values, and which run is better where the metric has a goal.
 */
import type { Goal } from './direction.js';
import type { Report } from './report.js';
import type { Phase } from '../step.js';

export interface ComparisonRow {
  phase: Phase;
  name: string;
  goal: Goal | undefined;
  /** NaN where that run does not have the metric. */
  lastA: number;
  lastB: number;
  deltaLast: number;
  bestA: number;
  bestB: number;
  deltaBest: number;
  /** Relative change of the best (or, without a goal, the last) value, B vs A; NaN when undefined. */
  changePercent: number;
  better: 'A' | 'B' | '=' | '';
}

export interface Comparison {
  a: Report;
  b: Report;
  rows: ComparisonRow[];
}

export function compareReports(a: Report, b: Report): Comparison {
  const rows: ComparisonRow[] = [];
  const phases: Phase[] = ['train', 'eval', 'system'];
  for (const phase of phases) {
    const rowsA = new Map((a.phases.find((p) => p.phase === phase)?.rows ?? []).map((r) => [r.name, r]));
    const rowsB = new Map((b.phases.find((p) => p.phase === phase)?.rows ?? []).map((r) => [r.name, r]));
    const names = [...new Set([...rowsA.keys(), ...rowsB.keys()])].sort();
    for (const name of names) {
      const ra = rowsA.get(name);
      const rb = rowsB.get(name);
      const goal = ra?.goal ?? rb?.goal;
      const lastA = ra?.last ?? NaN;
      const lastB = rb?.last ?? NaN;
      const bestA = ra?.best ?? NaN;
      const bestB = rb?.best ?? NaN;
      const baseA = goal === undefined ? lastA : bestA;
      const baseB = goal === undefined ? lastB : bestB;
      let better: ComparisonRow['better'] = '';
      if (goal !== undefined && Number.isFinite(bestA) && Number.isFinite(bestB)) {
        better = bestA === bestB ? '=' : (goal === 'min') === bestB < bestA ? 'B' : 'A';
      }
      rows.push({
        phase,
        name,
        goal,
        lastA,
        lastB,
        deltaLast: lastB - lastA,
        bestA,
        bestB,
        deltaBest: bestB - bestA,
        changePercent:
          baseA !== 0 && Number.isFinite(baseA) ? ((baseB - baseA) / Math.abs(baseA)) * 100 : NaN,
        better,
      });
    }
  }
  return { a, b, rows };
}
