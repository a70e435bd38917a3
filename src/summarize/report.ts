/**
 * The scorecard every format prints: a RunSummary turned into rows with means, best values and
 * the system section. Formatters only lay these out.
 */
import { goalFor, type Goal } from './direction.js';
import type { SeriesSample } from './downsample.js';
import type { InputHeader, RunSummary } from './summary-types.js';
import type { Phase, Step } from '../step.js';

export interface MetricRow {
  phase: Phase;
  name: string;
  count: number;
  nonFinite: number;
  first: number;
  last: number;
  lastStep: Step;
  /** NaN when every value was non-finite. */
  min: number;
  max: number;
  mean: number;
  goal: Goal | undefined;
  /** NaN and NaN step when the metric has no goal or no finite value. */
  best: number;
  bestStep: Step;
  sample: SeriesSample;
}

export interface SystemRow {
  label: string;
  /** How to print the figures. */
  unit: 'percent' | 'bytes' | 'watts';
  mean: number;
  peak: number;
}

export interface Report extends InputHeader {
  label: string;
  phases: { phase: Phase; rows: MetricRow[] }[];
  system: SystemRow[];
}

const PHASE_ORDER: readonly Phase[] = ['train', 'eval', 'system'];

function rowOf(metric: RunSummary['metrics'][number], goals: ReadonlyMap<string, Goal>): MetricRow {
  const finite = metric.count - metric.nonFinite;
  const goal = goalFor(metric.name, goals);
  const hasFinite = finite > 0;
  const best = !hasFinite || goal === undefined ? NaN : goal === 'min' ? metric.min : metric.max;
  const bestStep = !hasFinite || goal === undefined ? NaN : goal === 'min' ? metric.minStep : metric.maxStep;
  return {
    phase: metric.phase,
    name: metric.name,
    count: metric.count,
    nonFinite: metric.nonFinite,
    first: metric.first,
    last: metric.last,
    lastStep: metric.lastStep,
    min: hasFinite ? metric.min : NaN,
    max: hasFinite ? metric.max : NaN,
    mean: hasFinite ? (metric.sum + metric.sumCompensation) / finite : NaN,
    goal,
    best,
    bestStep,
    sample: metric.sample,
  };
}

/** System keys worth a line of their own, in the order people look for them (see the flat keys list). */
function systemRows(system: readonly MetricRow[]): SystemRow[] {
  const byName = new Map(system.map((row) => [row.name, row]));
  const rows: SystemRow[] = [];
  const add = (key: string, label: string, unit: SystemRow['unit']): void => {
    const row = byName.get(key);
    if (row !== undefined && row.count > row.nonFinite)
      rows.push({ label, unit, mean: row.mean, peak: row.max });
  };
  add('cpu_percent', 'CPU (host)', 'percent');
  add('proc_cpu_percent', 'CPU (process)', 'percent');
  add('ram_used_bytes', 'RAM used', 'bytes');
  add('ram_percent', 'RAM', 'percent');
  add('proc_rss_bytes', 'process RSS', 'bytes');
  const gpus = new Set<number>();
  for (const name of byName.keys()) {
    const match = /^gpu_(\d+)_/.exec(name);
    if (match) gpus.add(Number(match[1]));
  }
  for (const gpu of [...gpus].sort((a, b) => a - b)) {
    add(`gpu_${gpu}_util_percent`, `GPU ${gpu} utilization`, 'percent');
    add(`gpu_${gpu}_mem_used_bytes`, `GPU ${gpu} memory used`, 'bytes');
    add(`gpu_${gpu}_mem_percent`, `GPU ${gpu} memory`, 'percent');
    add(`gpu_${gpu}_power_w`, `GPU ${gpu} power`, 'watts');
  }
  return rows;
}

export function buildReport(summary: RunSummary, goals: ReadonlyMap<string, Goal>, label = ''): Report {
  const phases = PHASE_ORDER.map((phase) => ({
    phase,
    rows: summary.metrics
      .filter((m) => m.phase === phase)
      .map((m) => rowOf(m, goals))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
  })).filter((p) => p.rows.length > 0);
  const system = phases.find((p) => p.phase === 'system')?.rows ?? [];
  return {
    label,
    files: summary.files,
    lines: summary.lines,
    bytes: summary.bytes,
    malformed: summary.malformed,
    malformedReports: summary.malformedReports,
    runIds: summary.runIds,
    tsMin: summary.tsMin,
    tsMax: summary.tsMax,
    steps: summary.steps,
    phases,
    system: systemRows(system),
  };
}
