import type { Histogram } from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import { toTensorBoardHistogram } from '../../../src/formats/tensorboard/otel-histogram.js';

function otel(boundaries: number[], counts: number[], extra: Partial<Histogram> = {}): Histogram {
  return {
    buckets: { boundaries, counts },
    count: counts.reduce((a, b) => a + b, 0),
    sum: 0,
    min: undefined,
    max: undefined,
    ...extra,
  };
}

describe('OTel histogram to TensorBoard HistogramProto', () => {
  it('keeps only the populated bucket range, each with its upper edge, as tensorboardX does', () => {
    const histo = toTensorBoardHistogram(
      otel([0, 1, 2, 4, 8], [0, 0, 3, 1, 0, 0], { sum: 9, min: 1.5, max: 3 }),
    );
    expect(histo).toEqual({
      min: 1.5,
      max: 3,
      num: 4,
      sum: 9,
      sumSquares: (9 / 4) ** 2 * 4,
      bucketLimit: [2, 4],
      bucket: [3, 1],
    });
  });

  it('gives the overflow bucket the observed max as its upper edge', () => {
    const histo = toTensorBoardHistogram(otel([0, 1], [0, 2, 5], { sum: 40, min: 0.5, max: 12 }));
    expect(histo?.bucketLimit).toEqual([1, 12]);
    expect(histo?.bucket).toEqual([2, 5]);
  });

  it('bounds the data by the populated buckets edges when min and max were not recorded', () => {
    const histo = toTensorBoardHistogram(otel([0, 1, 2, 4], [0, 0, 2, 2, 0], { sum: 7 }));
    expect([histo?.min, histo?.max]).toEqual([1, 4]);
    expect(histo?.bucketLimit).toEqual([2, 4]);
  });

  it('writes one bucket at max for a histogram with no boundaries', () => {
    const histo = toTensorBoardHistogram(otel([], [3], { sum: 6, min: 1, max: 3 }));
    expect(histo?.bucketLimit).toEqual([3]);
    expect(histo?.bucket).toEqual([3]);
  });

  it('skips a histogram with no observations in the interval', () => {
    expect(toTensorBoardHistogram(otel([0, 1], [0, 0, 0]))).toBeUndefined();
  });

  it('takes the last boundary as max when only the overflow bucket is populated and max was not recorded', () => {
    const histo = toTensorBoardHistogram(otel([0, 5, 10], [0, 0, 0, 4], { sum: 60 }));
    expect([histo?.min, histo?.max]).toEqual([10, 10]);
    expect(histo?.bucketLimit).toEqual([10]);
    expect(histo?.bucket).toEqual([4]);
  });

  it('writes no histogram when its count and its buckets disagree about whether anything was observed', () => {
    // All buckets empty, yet a count: there is no bucket to draw.
    expect(toTensorBoardHistogram(otel([0, 1], [0, 0, 0], { count: 3, sum: 1 }))).toBeUndefined();
    // A populated bucket, yet count 0: the mean would divide by zero.
    expect(toTensorBoardHistogram(otel([0, 1], [0, 2, 0], { count: 0 }))).toBeUndefined();
  });
});
