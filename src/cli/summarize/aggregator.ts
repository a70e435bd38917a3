/**
 * The summarize MetricVisitor: per (phase, metric) running statistics in arrays indexed by the
 * reader's interned ids, so a line costs a few comparisons and no allocation.
 */
import type { MalformedLine, MetricVisitor, PhaseId } from '../../ndjson/metric-visitor.js';
import { PHASE_NAMES } from '../../ndjson/metric-visitor.js';
import type { NameTables } from '../../ndjson/read-metric-records.js';
import { NameTable } from '../../ndjson/name-table.js';
import { Downsample } from './downsample.js';
import {
  MAX_MALFORMED_REPORTS,
  type MalformedReport,
  type MetricSummary,
  type RunSummary,
  type StepValue,
} from './summary-types.js';

class MetricStats {
  count = 0;
  nonFinite = 0;
  first = NaN;
  firstStep: StepValue = NaN;
  last = NaN;
  lastStep: StepValue = NaN;
  min = Infinity;
  minStep: StepValue = NaN;
  max = -Infinity;
  maxStep: StepValue = NaN;
  sum = 0;
  /** Neumaier compensation: the low-order bits `sum` lost, so sums of parts equal the sum of the whole. */
  sumCompensation = 0;
  readonly sample = new Downsample();

  add(step: StepValue, value: number): void {
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

export class SummaryAggregator implements MetricVisitor {
  readonly tables: NameTables = { names: new NameTable(), runs: new NameTable() };
  /** Index `name * 3 + phase`. */
  private readonly stats: (MetricStats | undefined)[] = [];
  private readonly runSeen: boolean[] = [];
  private tsMin = Infinity;
  private tsMax = -Infinity;
  private readonly stepMin: StepValue[] = [NaN, NaN, NaN];
  private readonly stepMax: StepValue[] = [NaN, NaN, NaN];
  private readonly reports: MalformedReport[] = [];
  /** The file being read, for malformed reports. */
  file = '';

  scalar(phase: PhaseId, name: number, run: number, step: number | bigint, ts: number, value: number): void {
    const key = name * 3 + phase;
    let stats = this.stats[key];
    if (stats === undefined) {
      while (this.stats.length < key) this.stats.push(undefined);
      stats = new MetricStats();
      this.stats[key] = stats;
    }
    stats.add(step, value);
    if (run >= 0 && this.runSeen[run] !== true) {
      while (this.runSeen.length < run) this.runSeen.push(false);
      this.runSeen[run] = true;
    }
    if (ts < this.tsMin) this.tsMin = ts;
    if (ts > this.tsMax) this.tsMax = ts;
    // NaN (no step) fails both tests, so it never becomes a bound; the first step seeds both.
    const lo = this.stepMin[phase] as StepValue;
    if (step < lo || lo !== lo) this.stepMin[phase] = step;
    const hi = this.stepMax[phase] as StepValue;
    if (step > hi || hi !== hi) this.stepMax[phase] = step;
  }

  malformed(line: MalformedLine): void {
    if (this.reports.length < MAX_MALFORMED_REPORTS)
      this.reports.push({ file: this.file, line: line.line, field: line.field, reason: line.reason });
  }

  /** The statistics gathered so far, as plain data (header fields other than runs/ts/steps left empty). */
  toSummary(): RunSummary {
    const names = this.tables.names;
    const metrics: MetricSummary[] = [];
    for (let key = 0; key < this.stats.length; key++) {
      const s = this.stats[key];
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
    const runIds: string[] = [];
    this.runSeen.forEach((seen, id) => {
      if (seen) runIds.push(this.tables.runs.name(id));
    });
    return {
      files: [],
      lines: 0,
      bytes: 0,
      malformed: 0,
      malformedReports: [...this.reports],
      runIds,
      tsMin: this.tsMin === Infinity ? NaN : this.tsMin,
      tsMax: this.tsMax === -Infinity ? NaN : this.tsMax,
      steps: PHASE_NAMES.flatMap((phase, i) =>
        this.stepMin[i] === this.stepMin[i] ? [{ phase, min: this.stepMin[i], max: this.stepMax[i] }] : [],
      ) as RunSummary['steps'],
      metrics,
    };
  }
}
