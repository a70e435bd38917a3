/**
 * Streaming statistics of one (phase, metric): constant memory whatever the number of points,
 * and mergeable, so byte ranges summarized in parallel combine into the same answer.
 */
import type { Step } from '../instruments/step-row.js';

/** Points kept for sparklines and charts: pairs are averaged once the buffer fills. */
const MAX_POINTS = 240;

export type Goal = 'min' | 'max';

const LOWER_IS_BETTER =
  /(loss|error|err\b|perplexity|ppl|mse|mae|rmse|nll|wer|cer|bpc|bpb|latency|duration)/i;
const HIGHER_IS_BETTER =
  /(acc|accuracy|f1|precision|recall|auc|bleu|rouge|map\b|iou|score|reward|throughput|per_s|_ps\b)/i;

/** Which direction is better for a metric, from its name; `goals` (--goal) overrides. */
export function goalFor(name: string, goals: ReadonlyMap<string, Goal>): Goal | undefined {
  const explicit = goals.get(name);
  if (explicit) return explicit;
  if (LOWER_IS_BETTER.test(name)) return 'min';
  if (HIGHER_IS_BETTER.test(name)) return 'max';
  return undefined;
}

export class MetricStats {
  count = 0;
  nonFinite = 0;
  finiteCount = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;
  minStep: Step | undefined;
  maxStep: Step | undefined;
  firstStep: Step | undefined;
  firstValue = NaN;
  lastStep: Step | undefined;
  lastValue = NaN;
  /** Downsampled (step, value) pairs, in input order. */
  steps: number[] = [];
  values: number[] = [];
  private stride = 1;
  private pendingCount = 0;
  private pendingStep = 0;
  private pendingSum = 0;

  add(step: Step, value: number): void {
    if (this.count === 0) {
      this.firstStep = step;
      this.firstValue = value;
    }
    this.count++;
    this.lastStep = step;
    this.lastValue = value;
    if (!Number.isFinite(value)) {
      this.nonFinite++;
      return;
    }
    this.finiteCount++;
    this.sum += value;
    if (value < this.min) {
      this.min = value;
      this.minStep = step;
    }
    if (value > this.max) {
      this.max = value;
      this.maxStep = step;
    }
    this.sample(typeof step === 'bigint' ? Number(step) : step, value);
  }

  get mean(): number {
    return this.finiteCount === 0 ? NaN : this.sum / this.finiteCount;
  }

  best(goal: Goal | undefined): { value: number; step: Step } | undefined {
    if (goal === undefined || this.finiteCount === 0) return undefined;
    return goal === 'min'
      ? { value: this.min, step: this.minStep as Step }
      : { value: this.max, step: this.maxStep as Step };
  }

  /** Appends `later` (statistics of input that came after this one's). */
  merge(later: MetricStats): void {
    if (later.count === 0) return;
    if (this.count === 0) {
      this.firstStep = later.firstStep;
      this.firstValue = later.firstValue;
    }
    this.count += later.count;
    this.nonFinite += later.nonFinite;
    this.finiteCount += later.finiteCount;
    this.sum += later.sum;
    if (later.min < this.min) {
      this.min = later.min;
      this.minStep = later.minStep;
    }
    if (later.max > this.max) {
      this.max = later.max;
      this.maxStep = later.maxStep;
    }
    this.lastStep = later.lastStep;
    this.lastValue = later.lastValue;
    const steps = [...this.points().steps, ...later.points().steps];
    const values = [...this.points().values, ...later.points().values];
    this.steps = [];
    this.values = [];
    this.stride = 1;
    this.pendingCount = 0;
    this.pendingSum = 0;
    for (let i = 0; i < steps.length; i++) this.sample(steps[i] as number, values[i] as number);
  }

  /** The downsampled series including a partly filled last bucket. */
  points(): { steps: number[]; values: number[] } {
    if (this.pendingCount === 0) return { steps: this.steps, values: this.values };
    return {
      steps: [...this.steps, this.pendingStep],
      values: [...this.values, this.pendingSum / this.pendingCount],
    };
  }

  private sample(step: number, value: number): void {
    if (this.pendingCount === 0) this.pendingStep = step;
    this.pendingSum += value;
    if (++this.pendingCount < this.stride) return;
    this.steps.push(this.pendingStep);
    this.values.push(this.pendingSum / this.pendingCount);
    this.pendingCount = 0;
    this.pendingSum = 0;
    if (this.steps.length >= MAX_POINTS) {
      const steps: number[] = [];
      const values: number[] = [];
      for (let i = 0; i + 1 < this.steps.length; i += 2) {
        steps.push(this.steps[i] as number);
        values.push(((this.values[i] as number) + (this.values[i + 1] as number)) / 2);
      }
      this.steps = steps;
      this.values = values;
      this.stride *= 2;
    }
  }
}
