/** The scorecard every output format renders: run header, metrics by phase, system section. */
import type { Phase, Step } from '../instruments/step-row.js';
import { goalFor, type Goal } from './metric-stats.js';
import { RunSummary, type MalformedLine } from './run-summary.js';

export interface MetricRow {
  phase: Phase;
  name: string;
  count: number;
  first: number;
  firstStep: Step | undefined;
  last: number;
  lastStep: Step | undefined;
  min: number;
  max: number;
  mean: number;
  goal: Goal | undefined;
  best: { value: number; step: Step } | undefined;
  nonFinite: number;
  points: { steps: number[]; values: number[] };
}

export interface SystemStat {
  label: string;
  key: string;
  mean: number;
  peak: number;
  unit: string;
}

export interface Scorecard {
  header: {
    runIds: string[];
    tsMin: number | undefined;
    tsMax: number | undefined;
    stepMin: Step | undefined;
    stepMax: Step | undefined;
    files: string[];
    lines: number;
    bytes: number;
    malformed: number;
    malformedExamples: MalformedLine[];
  };
  metrics: MetricRow[];
  system: SystemStat[];
}

const PHASE_ORDER: Record<Phase, number> = { train: 0, eval: 1, system: 2 };

/** System keys worth a line in the system section, with their labels and units. */
const SYSTEM_KEYS: Array<[RegExp, (match: RegExpExecArray) => string, string]> = [
  [/^cpu_percent$/, () => 'CPU (host)', '%'],
  [/^proc_cpu_percent$/, () => 'CPU (training processes)', '%'],
  [/^ram_percent$/, () => 'RAM', '%'],
  [/^ram_used_bytes$/, () => 'RAM used', 'B'],
  [/^proc_rss_bytes$/, () => 'RSS (training processes)', 'B'],
  [/^gpu_(\d+)_util_percent$/, (m) => `GPU ${m[1]} utilization`, '%'],
  [/^gpu_(\d+)_mem_used_bytes$/, (m) => `GPU ${m[1]} memory used`, 'B'],
  [/^gpu_(\d+)_mem_percent$/, (m) => `GPU ${m[1]} memory`, '%'],
  [/^gpu_(\d+)_power_w$/, (m) => `GPU ${m[1]} power`, 'W'],
];

export function buildScorecard(summary: RunSummary, goals: ReadonlyMap<string, Goal> = new Map()): Scorecard {
  const metrics: MetricRow[] = [];
  for (const [key, stats] of summary.metrics) {
    const { phase, name } = RunSummary.parseKey(key);
    const goal = goalFor(name, goals);
    metrics.push({
      phase,
      name,
      count: stats.count,
      first: stats.firstValue,
      firstStep: stats.firstStep,
      last: stats.lastValue,
      lastStep: stats.lastStep,
      min: stats.finiteCount > 0 ? stats.min : NaN,
      max: stats.finiteCount > 0 ? stats.max : NaN,
      mean: stats.mean,
      goal,
      best: stats.best(goal),
      nonFinite: stats.nonFinite,
      points: stats.points(),
    });
  }
  metrics.sort((a, b) => PHASE_ORDER[a.phase] - PHASE_ORDER[b.phase] || a.name.localeCompare(b.name));
  const system: SystemStat[] = [];
  for (const row of metrics) {
    if (row.phase !== 'system') continue;
    for (const [pattern, label, unit] of SYSTEM_KEYS) {
      const match = pattern.exec(row.name);
      if (match) system.push({ label: label(match), key: row.name, mean: row.mean, peak: row.max, unit });
    }
  }
  return {
    header: {
      runIds: [...summary.runIds].sort(),
      tsMin: Number.isFinite(summary.tsMin) ? summary.tsMin : undefined,
      tsMax: Number.isFinite(summary.tsMax) ? summary.tsMax : undefined,
      stepMin: summary.stepMin,
      stepMax: summary.stepMax,
      files: summary.files,
      lines: summary.lines,
      bytes: summary.bytes,
      malformed: summary.malformed,
      malformedExamples: summary.malformedExamples,
    },
    metrics,
    system,
  };
}
