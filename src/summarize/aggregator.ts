/**
 * The summarize MetricVisitor: per (phase, metric) running statistics in arrays indexed by the
 * reader's interned ids, so a line costs a few comparisons and no allocation.
 */
import type { MalformedLine, MetricVisitor, PhaseId } from '../ndjson/line/metric-visitor.js';
import { PHASE_NAMES } from '../ndjson/line/metric-visitor.js';
import type { NameTables } from '../ndjson/read-metric-records.js';
import { NameTable } from '../ndjson/line/name-table.js';
import {
  decodeNumber,
  decodeStep,
  encodeNumber,
  type AggregatorState,
  type MetricStatsState,
  type RunStatsState,
} from './aggregator-state.js';
import { Downsample } from './downsample.js';
import { mergeSummaries } from './merge.js';
import {
  MAX_MALFORMED_REPORTS,
  type MalformedReport,
  type MetricSummary,
  type RunSummary,
} from './summary-types.js';
import type { Step } from '../step.js';

class MetricStats {
  count = 0;
  nonFinite = 0;
  first = NaN;
  firstStep: Step = NaN;
  last = NaN;
  lastStep: Step = NaN;
  min = Infinity;
  minStep: Step = NaN;
  max = -Infinity;
  maxStep: Step = NaN;
  sum = 0;
  /** Neumaier compensation: the low-order bits `sum` lost, so sums of parts equal the sum of the whole. */
  sumCompensation = 0;
  sample = new Downsample();

  save(): MetricStatsState {
    const sample = this.sample.save();
    return {
      fields: [
        this.count,
        this.nonFinite,
        this.first,
        this.firstStep,
        this.last,
        this.lastStep,
        this.min,
        this.minStep,
        this.max,
        this.maxStep,
        this.sum,
        this.sumCompensation,
      ].map(encodeNumber),
      sample: { ...sample, steps: sample.steps.map(encodeNumber), values: sample.values.map(encodeNumber) },
    };
  }

  static restore(state: MetricStatsState): MetricStats {
    const stats = new MetricStats();
    const [
      count,
      nonFinite,
      first,
      firstStep,
      last,
      lastStep,
      min,
      minStep,
      max,
      maxStep,
      sum,
      compensation,
    ] = state.fields;
    const n = (value: unknown): number => decodeNumber(value as number | string);
    const step = (value: unknown): Step => decodeStep(value as number | string);
    Object.assign(stats, {
      count: n(count),
      nonFinite: n(nonFinite),
      first: n(first),
      firstStep: step(firstStep),
      last: n(last),
      lastStep: step(lastStep),
      min: n(min),
      minStep: step(minStep),
      max: n(max),
      maxStep: step(maxStep),
      sum: n(sum),
      sumCompensation: n(compensation),
    });
    const sample = state.sample;
    stats.sample = Downsample.restore({
      ...sample,
      steps: sample.steps.map(n),
      values: sample.values.map(n),
    });
    return stats;
  }

  add(step: Step, value: number): void {
    if (this.count++ === 0) {
      this.first = value;
      this.firstStep = step;
    }
    this.last = value;
    this.lastStep = step;
    this.sample.add(typeof step === 'number' ? step : Number(step), value);
    // NaN fails every comparison below, but ±Infinity would not.
    if (value - value !== 0) {
      this.nonFinite++;
      return;
    }
    const total = this.sum + value;
    this.sumCompensation +=
      Math.abs(this.sum) >= Math.abs(value) ? this.sum - total + value : value - total + this.sum;
    this.sum = total;
    if (value < this.min) {
      this.min = value;
      this.minStep = step;
    }
    if (value > this.max) {
      this.max = value;
      this.maxStep = step;
    }
  }
}

/** Statistics of one run id (or of lines without one). */
class RunStats {
  /** Index `name * 3 + phase`. */
  readonly stats: (MetricStats | undefined)[] = [];
  tsMin = Infinity;
  tsMax = -Infinity;
  readonly stepMin: Step[] = [NaN, NaN, NaN];
  readonly stepMax: Step[] = [NaN, NaN, NaN];
}

export class SummaryAggregator implements MetricVisitor {
  readonly tables: NameTables = { names: new NameTable(), runs: new NameTable() };
  /** Per run id (-1: lines without one), in the order first seen; runs are split apart in reports. */
  private readonly runs = new Map<number, RunStats>();
  private lastRun = NaN;
  private lastStats: RunStats | undefined;
  private readonly reports: MalformedReport[] = [];
  /** The file being read, for malformed reports. */
  file = '';

  private runStats(run: number): RunStats {
    // A line without a run id belongs to the run read last (a plain row inside a run's stream).
    if ((run === this.lastRun || run === -1) && this.lastStats !== undefined) return this.lastStats;
    let stats = this.runs.get(run);
    if (stats === undefined) {
      stats = new RunStats();
      this.runs.set(run, stats);
    }
    this.lastRun = run;
    this.lastStats = stats;
    return stats;
  }

  scalar(phase: PhaseId, name: number, run: number, step: number | bigint, ts: number, value: number): void {
    const r = this.runStats(run);
    const key = name * 3 + phase;
    let stats = r.stats[key];
    if (stats === undefined) {
      while (r.stats.length < key) r.stats.push(undefined);
      stats = new MetricStats();
      r.stats[key] = stats;
    }
    stats.add(step, value);
    if (ts < r.tsMin) r.tsMin = ts;
    if (ts > r.tsMax) r.tsMax = ts;
    // NaN (no step) fails both tests, so it never becomes a bound; the first step seeds both.
    const lo = r.stepMin[phase] as Step;
    if (step < lo || lo !== lo) r.stepMin[phase] = step;
    const hi = r.stepMax[phase] as Step;
    if (step > hi || hi !== hi) r.stepMax[phase] = step;
  }

  malformed(line: MalformedLine): void {
    if (this.reports.length < MAX_MALFORMED_REPORTS)
      this.reports.push({ file: this.file, line: line.line, field: line.field, reason: line.reason });
  }

  /** Forgets the scalars read so far (a run read again from its start); malformed reports stay. */
  reset(): void {
    this.runs.clear();
    this.lastRun = NaN;
    this.lastStats = undefined;
  }

  /** Everything gathered so far, as JSON, for an aggregator that goes on later (`restore`). */
  save(): AggregatorState {
    const byRun: RunStatsState[] = [...this.runs].map(([run, r]) => ({
      run,
      stats: r.stats.map((stats) => stats?.save() ?? null),
      tsMin: encodeNumber(r.tsMin),
      tsMax: encodeNumber(r.tsMax),
      stepMin: r.stepMin.map(encodeNumber),
      stepMax: r.stepMax.map(encodeNumber),
    }));
    return {
      names: [...this.tables.names.names],
      runs: [...this.tables.runs.names],
      byRun,
      reports: [...this.reports],
      file: this.file,
    };
  }

  /** Takes up what `save` gave, before anything else is read: the next scalar goes on from there. */
  restore(state: AggregatorState): void {
    for (const name of state.names) this.tables.names.idOfString(name);
    for (const run of state.runs) this.tables.runs.idOfString(run);
    this.reset();
    for (const saved of state.byRun) {
      const r = new RunStats();
      saved.stats.forEach((stats) => r.stats.push(stats === null ? undefined : MetricStats.restore(stats)));
      r.tsMin = decodeNumber(saved.tsMin);
      r.tsMax = decodeNumber(saved.tsMax);
      saved.stepMin.forEach((step, i) => (r.stepMin[i] = decodeStep(step)));
      saved.stepMax.forEach((step, i) => (r.stepMax[i] = decodeStep(step)));
      this.runs.set(saved.run, r);
    }
    this.reports.splice(0, this.reports.length, ...state.reports);
    this.file = state.file;
  }

  /** The statistics gathered so far, as plain data, with one summary per run in `byRun`. */
  toSummary(): RunSummary {
    const byRun = [...this.runs].map(([run, stats]) => this.runSummary(run, stats));
    const merged = mergeSummaries(byRun);
    return { ...merged, malformedReports: [...this.reports], byRun };
  }

  private runSummary(run: number, r: RunStats): RunSummary {
    const names = this.tables.names;
    const metrics: MetricSummary[] = [];
    for (let key = 0; key < r.stats.length; key++) {
      const s = r.stats[key];
      if (s === undefined) continue;
      metrics.push({
        phase: PHASE_NAMES[key % 3] as MetricSummary['phase'],
        name: names.name(Math.floor(key / 3)),
        count: s.count,
        nonFinite: s.nonFinite,
        first: s.first,
        firstStep: s.firstStep,
        last: s.last,
        lastStep: s.lastStep,
        min: s.min,
        minStep: s.minStep,
        max: s.max,
        maxStep: s.maxStep,
        sum: s.sum,
        sumCompensation: s.sumCompensation,
        sample: s.sample.toJSON(),
      });
    }
    return {
      files: [],
      lines: 0,
      bytes: 0,
      malformed: 0,
      malformedReports: [],
      runIds: run >= 0 ? [this.tables.runs.name(run)] : [],
      tsMin: r.tsMin === Infinity ? NaN : r.tsMin,
      tsMax: r.tsMax === -Infinity ? NaN : r.tsMax,
      steps: PHASE_NAMES.flatMap((phase, i) =>
        r.stepMin[i] === r.stepMin[i] ? [{ phase, min: r.stepMin[i], max: r.stepMax[i] }] : [],
      ) as RunSummary['steps'],
      metrics,
    };
  }
}
