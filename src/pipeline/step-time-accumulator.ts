/**
 * Step durations between two batches, bucketed with the same boundaries as the backends'
 * histogram, so TensorBoard's step-time chart and Prometheus' buckets agree. The facade measures
 * each duration once and records it here and in the backend histogram.
 */
import type { Step } from '../step.js';
import type { StepTimeHistogram } from './row-sink.js';

export class StepTimeAccumulator {
  private readonly boundaries: readonly number[];
  private counts: number[];
  private count = 0;
  private sum = 0;
  private min = Infinity;
  private max = -Infinity;
  private step: Step = 0;
  private ts = 0;

  constructor(boundaries: readonly number[]) {
    this.boundaries = boundaries;
    this.counts = new Array<number>(boundaries.length + 1).fill(0);
  }

  record(seconds: number, step: Step, ts: number): void {
    // Buckets are (previous, boundary]: the first boundary >= seconds takes it.
    let bucket = 0;
    while (bucket < this.boundaries.length && seconds > (this.boundaries[bucket] as number)) bucket++;
    this.counts[bucket] = (this.counts[bucket] as number) + 1;
    this.count++;
    this.sum += seconds;
    if (seconds < this.min) this.min = seconds;
    if (seconds > this.max) this.max = seconds;
    this.step = step;
    this.ts = ts;
  }

  /** The histogram since the last take, or undefined when no step was timed; then starts afresh. */
  take(): StepTimeHistogram | undefined {
    if (this.count === 0) return undefined;
    const histogram: StepTimeHistogram = {
      buckets: { boundaries: this.boundaries, counts: this.counts },
      count: this.count,
      sum: this.sum,
      min: this.min,
      max: this.max,
      step: this.step,
      ts: this.ts,
    };
    this.counts = new Array<number>(this.boundaries.length + 1).fill(0);
    this.count = 0;
    this.sum = 0;
    this.min = Infinity;
    this.max = -Infinity;
    return histogram;
  }
}
