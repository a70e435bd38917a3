/**
 * Joins summaries of consecutive parts of the input (files, or byte ranges of one file read by
 * different workers) in reading order: first values come from the earliest part that has the
 * metric, last values from the latest, extremes keep the earlier step on ties.
 */
import { mergeSamples } from './downsample.js';
import { MAX_MALFORMED_REPORTS, type MetricSummary, type RunSummary } from './summary-types.js';
import type { Step } from '../step.js';

const isStep = (s: Step): boolean => s === s;

function mergeMetric(a: MetricSummary, b: MetricSummary): MetricSummary {
  return {
    phase: a.phase,
    name: a.name,
    count: a.count + b.count,
    nonFinite: a.nonFinite + b.nonFinite,
    first: a.first,
    firstStep: a.firstStep,
    last: b.last,
    lastStep: b.lastStep,
    min: b.min < a.min ? b.min : a.min,
    minStep: b.min < a.min ? b.minStep : a.minStep,
    max: b.max > a.max ? b.max : a.max,
    maxStep: b.max > a.max ? b.maxStep : a.maxStep,
    // Compensated, so a stream read in parts (rotated segments, worker ranges) sums like one piece.
    sum: a.sum + b.sum,
    sumCompensation: a.sumCompensation + b.sumCompensation + twoSumError(a.sum, b.sum),
    sample: mergeSamples(a.sample, b.sample),
  };
}

/** The rounding error of a + b (Knuth's TwoSum). */
function twoSumError(a: number, b: number): number {
  const sum = a + b;
  const bVirtual = sum - a;
  return a - (sum - bVirtual) + (b - bVirtual);
}

function minStep(a: Step, b: Step): Step {
  if (!isStep(a)) return b;
  return isStep(b) && b < a ? b : a;
}

function maxStep(a: Step, b: Step): Step {
  if (!isStep(a)) return b;
  return isStep(b) && b > a ? b : a;
}

/** Joins parts in reading order, and their per-run and per-rank sub-summaries key by key. */
export function mergeSummaries(parts: readonly RunSummary[]): RunSummary {
  const out = mergeFlat(parts);
  const byRun = mergeGroups(
    parts,
    (part) => part.byRun,
    (run) => run.runIds.join(','),
  );
  if (byRun !== undefined) out.byRun = byRun;
  const byRank = mergeGroups(
    parts,
    (part) => part.byRank ?? (part.rank === undefined ? undefined : [part]),
    (r) => String(r.rank ?? 0),
  );
  if (byRank !== undefined && byRank.length > 1) out.byRank = byRank;
  return out;
}

function mergeFlat(parts: readonly RunSummary[]): RunSummary {
  const metrics = new Map<string, MetricSummary>();
  const runIds = new Set<string>();
  const steps = new Map<string, { min: Step; max: Step }>();
  const out: RunSummary = {
    files: [],
    lines: 0,
    bytes: 0,
    malformed: 0,
    malformedReports: [],
    runIds: [],
    tsMin: NaN,
    tsMax: NaN,
    steps: [],
    metrics: [],
  };
  for (const part of parts) {
    for (const file of part.files) if (!out.files.includes(file)) out.files.push(file);
    out.lines += part.lines;
    out.bytes += part.bytes;
    out.malformed += part.malformed;
    for (const report of part.malformedReports)
      if (out.malformedReports.length < MAX_MALFORMED_REPORTS) out.malformedReports.push(report);
    for (const id of part.runIds) runIds.add(id);
    if (!(part.tsMin >= out.tsMin)) out.tsMin = Number.isNaN(part.tsMin) ? out.tsMin : part.tsMin;
    if (!(part.tsMax <= out.tsMax)) out.tsMax = Number.isNaN(part.tsMax) ? out.tsMax : part.tsMax;
    for (const s of part.steps) {
      const seen = steps.get(s.phase);
      steps.set(s.phase, seen ? { min: minStep(seen.min, s.min), max: maxStep(seen.max, s.max) } : s);
    }
    for (const metric of part.metrics) {
      const key = `${metric.phase}\u0000${metric.name}`;
      const seen = metrics.get(key);
      metrics.set(key, seen ? mergeMetric(seen, metric) : metric);
    }
  }
  out.runIds = [...runIds];
  out.steps = (['train', 'eval', 'system'] as const).flatMap((phase) => {
    const s = steps.get(phase);
    return s ? [{ phase, ...s }] : [];
  });
  out.metrics = [...metrics.values()];
  return out;
}

/** Merges the sub-summaries of every part by key, keeping the order in which keys first appear. */
function mergeGroups(
  parts: readonly RunSummary[],
  subs: (part: RunSummary) => RunSummary[] | undefined,
  key: (sub: RunSummary) => string,
): RunSummary[] | undefined {
  const groups = new Map<string, RunSummary[]>();
  let any = false;
  for (const part of parts) {
    for (const sub of subs(part) ?? []) {
      any = true;
      const k = key(sub);
      const group = groups.get(k);
      if (group) group.push(sub);
      else groups.set(k, [sub]);
    }
  }
  if (!any) return undefined;
  return [...groups.values()].map((group) => {
    const merged = mergeFlat(group);
    if (group[0]?.rank !== undefined) merged.rank = group[0].rank;
    return merged;
  });
}
