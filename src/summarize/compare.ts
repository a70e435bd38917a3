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
  /**
   * null where that run does not have the metric (or, for best, no goal or no finite value): an
   * absent figure must not read as NaN, which an ML engineer reads as divergence. A NaN last value
   * the run did log stays NaN.
   */
  lastA: number | null;
  lastB: number | null;
  deltaLast: number | null;
  bestA: number | null;
  bestB: number | null;
  deltaBest: number | null;
  /** Relative change of the best (or, without a goal, the last) value, B vs A; null when undefined. */
  changePercent: number | null;
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
      const lastA = ra?.last ?? null;
      const lastB = rb?.last ?? null;
      const bestA = finiteOrNull(ra?.best);
      const bestB = finiteOrNull(rb?.best);
      const baseA = goal === undefined ? lastA : bestA;
      const baseB = goal === undefined ? lastB : bestB;
      let better: ComparisonRow['better'] = '';
      if (goal !== undefined && bestA !== null && bestB !== null) {
        better = bestA === bestB ? '=' : (goal === 'min') === bestB < bestA ? 'B' : 'A';
      }
      rows.push({
        phase,
        name,
        goal,
        lastA,
        lastB,
        deltaLast: lastA === null || lastB === null ? null : lastB - lastA,
        bestA,
        bestB,
        deltaBest: bestA === null || bestB === null ? null : bestB - bestA,
        changePercent:
          baseA !== null && baseB !== null && baseA !== 0 && Number.isFinite(baseA) && Number.isFinite(baseB)
            ? ((baseB - baseA) / Math.abs(baseA)) * 100
            : null,
        better,
      });
    }
  }
  return { a, b, rows };
}

/** A best value exists only as a finite number (report.ts uses NaN for none). */
function finiteOrNull(value: number | undefined): number | null {
  return value !== undefined && Number.isFinite(value) ? value : null;
}
