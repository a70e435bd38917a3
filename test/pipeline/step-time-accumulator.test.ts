import { describe, expect, it } from 'vitest';
import { StepTimeAccumulator } from '../../src/pipeline/step-time-accumulator.js';

describe('StepTimeAccumulator', () => {
  it('has nothing to hand over before a step is timed', () => {
    expect(new StepTimeAccumulator([0.1, 1]).take()).toBeUndefined();
  });

  it('puts a duration in the first bucket whose upper edge is at or above it, the rest in overflow', () => {
    const times = new StepTimeAccumulator([0.1, 1, 10]);
    // Edges are inclusive upper bounds: (-inf, 0.1], (0.1, 1], (1, 10], (10, +inf).
    for (const seconds of [0.05, 0.1, 0.1000001, 1, 5, 10, 10.5, 1000]) times.record(seconds, 7, 100);
    const histogram = times.take();
    expect(histogram?.buckets.boundaries).toEqual([0.1, 1, 10]);
    expect(histogram?.buckets.counts).toEqual([2, 2, 2, 2]);
  });

  it('keeps count, sum, min, max and the last step and time since the previous take', () => {
    const times = new StepTimeAccumulator([1]);
    times.record(0.5, 1, 1000.25);
    times.record(3, 2, 1001.5);
    times.record(0.25, 3n, 1002.75);
    expect(times.take()).toEqual({
      buckets: { boundaries: [1], counts: [2, 1] },
      count: 3,
      sum: 3.75,
      min: 0.25,
      max: 3,
      step: 3n,
      ts: 1002.75,
    });
  });

  it('keeps min and max right when the first duration is the largest or the smallest', () => {
    const falling = new StepTimeAccumulator([]);
    falling.record(9, 1, 1);
    falling.record(2, 2, 2);
    expect(falling.take()).toMatchObject({ min: 2, max: 9 });
    const rising = new StepTimeAccumulator([]);
    rising.record(2, 1, 1);
    rising.record(9, 2, 2);
    expect(rising.take()).toMatchObject({ min: 2, max: 9, buckets: { counts: [2] } });
  });

  it('starts afresh after each take, with a new counts array so the old histogram stays as it was', () => {
    const times = new StepTimeAccumulator([1]);
    times.record(5, 1, 10);
    times.record(6, 2, 11);
    const first = times.take();
    expect(times.take()).toBeUndefined();
    times.record(0.5, 3, 12);
    const second = times.take();
    expect(second).toEqual({
      buckets: { boundaries: [1], counts: [1, 0] },
      count: 1,
      sum: 0.5,
      min: 0.5,
      max: 0.5,
      step: 3,
      ts: 12,
    });
    expect(first?.buckets.counts).toEqual([0, 2]);
    expect(first).toMatchObject({ count: 2, sum: 11, min: 5, max: 6 });
  });

  it('resets min and max, so a batch of smaller durations after a larger one reports its own extremes', () => {
    const times = new StepTimeAccumulator([]);
    times.record(100, 1, 1);
    times.record(-100, 1, 1);
    times.take();
    times.record(3, 2, 2);
    expect(times.take()).toMatchObject({ min: 3, max: 3 });
  });
});
