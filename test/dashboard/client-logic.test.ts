import { describe, expect, it } from 'vitest';
import type { ChartModel, SeriesModel } from '../../src/dashboard/chart-model.js';
import { align } from '../../src/dashboard/client/align.js';
import { chartCsv } from '../../src/dashboard/client/csv.js';
import { smooth } from '../../src/dashboard/client/smooth.js';
import { initialState, parseFilter, visibleSeries } from '../../src/dashboard/client/view-state.js';

function series(over: Partial<SeriesModel>): SeriesModel {
  return {
    id: 'a',
    run: 'a',
    phase: 'train',
    label: 'a',
    color: '#000',
    dashed: false,
    rank: null,
    band: false,
    step: [],
    ts: [],
    y: [],
    marks: [],
    points: 0,
    nan: 0,
    posInf: 0,
    negInf: 0,
    t0: null,
    ...over,
  };
}

describe('the page logic that runs without a browser', () => {
  it('smooths like TensorBoard: a debiased EMA, constant series unchanged, non-finite values passed through', () => {
    // By hand, weight 0.5: 0.5/0.5 = 1; (0.25 + 1)/0.75 = 1.6667; (0.625 + 1.5)/0.875 = 2.428571.
    const out = smooth([1, 2, 3], 0.5);
    expect(out[0]).toBeCloseTo(1, 10);
    expect(out[1]).toBeCloseTo(5 / 3, 10);
    expect(out[2]).toBeCloseTo(2.125 / 0.875, 10);
    expect(smooth([4, 4, 4], 0.9)).toEqual([4, 4, 4]);
    expect(smooth([1, null, 3], 0)).toEqual([1, null, 3]);
    expect(smooth([1, null, 1, 3], 0.5)[1]).toBeNull();
  });

  it('aligns series with different x values on their sorted union, null where a series has no point', () => {
    const out = align([
      { x: [0, 2], columns: [[10, 12]] },
      { x: [1, 2], columns: [[21, 22]] },
    ]);
    expect([out.x, out.columns, [out.points(0), out.points(1)]]).toEqual([
      [0, 1, 2],
      [
        [10, null, 12],
        [null, 21, 22],
      ],
      [
        [0, null, 1],
        [null, 0, 1],
      ],
    ]);
  });

  it('aligns many runs whose steps differ on a bounded grid, keeping every point of every line within a pixel and a half', () => {
    // 100 runs, each an envelope of 391 buckets of 256 steps: two points a bucket, at the steps of
    // the bucket's min and max (its own, so the runs' steps differ), as the server sends them.
    let seed = 7;
    const random = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const tracks = Array.from({ length: 100 }, (_, run) => {
      const x: number[] = [];
      for (let b = 0; b < 391; b++) {
        const [p, q] = [Math.floor(random() * 256), Math.floor(random() * 256)].sort((a, c) => a - c);
        x.push(b * 256 + (p as number), b * 256 + (q as number));
      }
      return { x, columns: [x.map((v) => run * 1e6 + v)] };
    });
    const maxRows = 2 * 588;
    const union = new Set(tracks.flatMap((t) => t.x)).size;
    expect(union).toBeGreaterThan(maxRows * 10);
    const out = align(tracks, maxRows);
    const cell = (Math.max(...out.x) - Math.min(...out.x)) / (out.x.length > 1 ? maxRows - 1 : 1);
    expect(out.x.length).toBeLessThanOrEqual(maxRows + 2);
    expect(out.x).toEqual([...out.x].sort((a, b) => a - b));
    tracks.forEach((t, k) => {
      const own = out.points(k);
      const column = out.columns[k] as (number | null)[];
      // Every point kept, once, in its line's order, its value beside it, near its own x.
      const kept = own.flatMap((i, row) => (i === null ? [] : [[i, row] as const]));
      expect(kept.map(([i]) => i)).toEqual(t.x.map((_, i) => i));
      for (const [i, row] of kept) {
        expect(column[row]).toBe(t.columns[0]?.[i]);
        expect(Math.abs((out.x[row] as number) - (t.x[i] as number))).toBeLessThanOrEqual(3 * cell);
      }
    });
    // Under the bound, the exact union as before.
    expect(align(tracks.slice(0, 1), maxRows).x).toEqual([...new Set(tracks[0]?.x)]);
  });

  it('shows a rank group as its band, or one chosen rank alone, and hides toggled runs', () => {
    const chart: ChartModel = {
      metric: 'loss',
      section: 'scalars',
      series: [
        series({ id: 'g', band: true }),
        series({ id: 'r0', rank: 0 }),
        series({ id: 'r1', rank: 1 }),
        series({ id: 'b', run: 'b' }),
      ],
    };
    const state = initialState();
    expect(visibleSeries(chart, state).map((s) => s.id)).toEqual(['g', 'b']);
    state.rankChoice.set('a', 1);
    expect(visibleSeries(chart, state).map((s) => s.id)).toEqual(['r1', 'b']);
    state.hiddenRuns.add('b');
    expect(visibleSeries(chart, state).map((s) => s.id)).toEqual(['r1']);
  });

  it('writes CSV with quoted names, formula guards and non-finite rows', () => {
    const chart: ChartModel = {
      metric: '=cmd,"x"',
      section: 'scalars',
      series: [series({ label: 'a', step: [1], ts: [5], y: [0.5], marks: [[2, 6, 1 | 2]] })],
    };
    expect(chartCsv(chart).split('\r\n')).toEqual([
      'metric,series,run,phase,rank,step,time,value,band_min,band_max',
      `"'=cmd,""x""",a,a,train,,1,5,0.5,,`,
      `"'=cmd,""x""",a,a,train,,2,6,NaN,,`,
      `"'=cmd,""x""",a,a,train,,2,6,Infinity,,`,
      '',
    ]);
  });

  it('takes the metric filter as a case-insensitive regular expression and rejects a broken one', () => {
    expect(parseFilter('')).toBeNull();
    expect(parseFilter('^LOSS$')?.test('loss')).toBe(true);
    expect(parseFilter('(')).toBeUndefined();
  });
});
