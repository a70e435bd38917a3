/**
 * A fixed-size, evenly spaced sample of a series of any length, for sparklines and charts: keeps
 * every `stride`-th point and, when full, drops every other one and doubles the stride. Memory is
 * constant whatever the input size; the sample stays in arrival order.
 */

export interface SeriesSample {
  steps: number[];
  values: number[];
  stride: number;
}

export const DEFAULT_SAMPLE_POINTS = 512;

/** A Downsample as plain data: its sample, the points it has seen, and its capacity. */
export interface DownsampleState extends SeriesSample {
  seen: number;
  capacity: number;
}

export class Downsample {
  private readonly steps: Float64Array;
  private readonly values: Float64Array;
  private length = 0;
  private stride = 1;
  private seen = 0;

  constructor(private readonly capacity = DEFAULT_SAMPLE_POINTS) {
    this.steps = new Float64Array(capacity);
    this.values = new Float64Array(capacity);
  }

  add(step: number, value: number): void {
    if (this.seen++ % this.stride !== 0) return;
    if (this.length === this.capacity) this.halve();
    this.steps[this.length] = step;
    this.values[this.length] = value;
    this.length++;
  }

  /** Everything it holds, so a read that stopped can go on later (`restore`). */
  save(): DownsampleState {
    return { ...this.toJSON(), seen: this.seen, capacity: this.capacity };
  }

  static restore(state: DownsampleState): Downsample {
    const sample = new Downsample(state.capacity);
    sample.steps.set(state.steps);
    sample.values.set(state.values);
    sample.length = state.steps.length;
    sample.stride = state.stride;
    sample.seen = state.seen;
    return sample;
  }

  toJSON(): SeriesSample {
    return {
      steps: Array.from(this.steps.subarray(0, this.length)),
      values: Array.from(this.values.subarray(0, this.length)),
      stride: this.stride,
    };
  }

  private halve(): void {
    for (let i = 0; i * 2 < this.length; i++) {
      this.steps[i] = this.steps[i * 2] as number;
      this.values[i] = this.values[i * 2] as number;
    }
    this.length = Math.ceil(this.length / 2);
    this.stride *= 2;
  }
}

/** Joins samples of consecutive parts of one series, thinning the denser to the sparser stride. */
export function mergeSamples(
  a: SeriesSample,
  b: SeriesSample,
  capacity = DEFAULT_SAMPLE_POINTS,
): SeriesSample {
  let stride = Math.max(a.stride, b.stride);
  const thin = (s: SeriesSample): [number[], number[]] => {
    const every = stride / s.stride;
    return [s.steps.filter((_, i) => i % every === 0), s.values.filter((_, i) => i % every === 0)];
  };
  let [steps, values] = thin(a);
  const [bSteps, bValues] = thin(b);
  steps = steps.concat(bSteps);
  values = values.concat(bValues);
  while (steps.length > capacity) {
    steps = steps.filter((_, i) => i % 2 === 0);
    values = values.filter((_, i) => i % 2 === 0);
    stride *= 2;
  }
  return { steps, values, stride };
}
