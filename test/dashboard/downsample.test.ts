import { describe, expect, it } from 'vitest';
import {
  BucketSeries,
  COLUMNS,
  MAX_BUCKETS,
  NF_NAN,
  NF_NEG_INF,
  NF_POS_INF,
} from '../../src/dashboard/bucket-series.js';
import { bandLine, pixelLine, stepExtent } from '../../src/dashboard/pixel-downsample.js';

describe('bucketed series and pixel downsampling', () => {
  it('keeps a one-step spike in a million steps visible at 600 pixels, in bounded memory', () => {
    const s = new BucketSeries();
    for (let step = 0; step < 1_000_000; step++)
      s.add(step, 1e9 + step, step === 777_777 ? 1000 : Math.sin(step / 1000));
    expect(s.length).toBeLessThanOrEqual(MAX_BUCKETS);
    expect(s.data.length).toBeLessThanOrEqual(MAX_BUCKETS * COLUMNS);
    expect(s.points).toBe(1_000_000);
    const line = pixelLine(s, 600, 0, 999_999);
    expect(line.y.length).toBeLessThanOrEqual(1200);
    const peak = line.y.indexOf(1000);
    expect(peak).toBeGreaterThanOrEqual(0);
    expect(line.step[peak]).toBe(777_777);
    expect(line.ts[peak]).toBe(1e9 + 777_777);
    expect(Math.min(...line.y)).toBeCloseTo(-1, 5);
  });

  it('draws every point of a short series, min and max of a column in step order', () => {
    const s = new BucketSeries();
    [5, 1, 4].forEach((v, step) => s.add(step, NaN, v));
    expect(pixelLine(s, 600, 0, 2)).toMatchObject({ step: [0, 1, 2], y: [5, 1, 4] });
    // One column: the max (step 0) comes before the min (step 1).
    expect(pixelLine(s, 1, 0, 2)).toMatchObject({ step: [0, 1], y: [5, 1] });
  });

  it('counts NaN, +Inf and −Inf and marks the column where each happened instead of drawing them as 0', () => {
    const s = new BucketSeries();
    for (let step = 0; step < 100; step++) {
      s.add(step, step, step === 10 ? NaN : step === 20 ? Infinity : step === 30 ? -Infinity : 1);
    }
    expect([s.nan, s.posInf, s.negInf]).toEqual([1, 1, 1]);
    const line = pixelLine(s, 100, 0, 99);
    expect(line.y).not.toContain(0);
    expect(line.y).toHaveLength(97);
    expect(line.marks).toEqual([
      [10, 10, NF_NAN],
      [20, 20, NF_POS_INF],
      [30, 30, NF_NEG_INF],
    ]);
    // Cut to 2 columns: the marks merge per column, and none is lost.
    const coarse = pixelLine(s, 2, 0, 99);
    expect(coarse.marks).toEqual([[10, 10, NF_NAN | NF_POS_INF | NF_NEG_INF]]);
  });

  it('draws ranks as the median of their column means inside the min–max band', () => {
    const ranks = [1, 2, 10].map((v) => {
      const s = new BucketSeries();
      for (let step = 0; step < 10; step++) s.add(step, NaN, v);
      return s;
    });
    const [from, to] = stepExtent(ranks);
    const band = bandLine(ranks, 5, from, to);
    expect(band.y).toEqual([2, 2, 2, 2, 2]);
    expect(band.lo).toEqual([1, 1, 1, 1, 1]);
    expect(band.hi).toEqual([10, 10, 10, 10, 10]);
  });
});
