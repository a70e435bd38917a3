/**
 * The buckets of the first charts listed are read ahead after the first index answer, a series at a
 * time with the event loop free between, and no further than the charts read ahead.
 */
import { describe, expect, it } from 'vitest';
import { BucketSeries } from '../../src/dashboard/bucket-series.js';
import { SeriesStore } from '../../src/dashboard/series-store.js';
import { SETTLE_AHEAD_CHARTS, settleAhead } from '../../src/dashboard/settle-ahead.js';

function deferredRows(series: BucketSeries, reads: string[], name: string): void {
  series.defer(() => {
    reads.push(name);
    const rows = new BucketSeries();
    for (let step = 0; step < 3; step++) rows.add(step, 1000 + step, step / 10);
    return rows.state();
  }, 3);
}

describe('reading ahead', () => {
  it('reads the first charts listed, a series a turn of the event loop, and no more', async () => {
    const store = new SeriesStore();
    const reads: string[] = [];
    const metrics: string[] = [];
    for (let c = 0; c < SETTLE_AHEAD_CHARTS + 2; c++) {
      const name = `metric_${String(c).padStart(2, '0')}`;
      for (const run of ['a', 'b'])
        deferredRows(store.series(run, 0, 'train', name), reads, `${name}/${run}`);
      metrics.push(name);
    }
    expect([...store.charts.keys()]).toEqual(expect.arrayContaining(metrics));
    // Another task between two reads sees a part read: the loop was free for a request there.
    const between: number[] = [];
    const done = new Promise<void>((resolve) => settleAhead(store, metrics, resolve));
    const watch = (): void => {
      between.push(reads.length);
      if (reads.length < SETTLE_AHEAD_CHARTS * 2) setImmediate(watch);
    };
    setImmediate(watch);
    await done;
    const ahead = metrics.slice(0, SETTLE_AHEAD_CHARTS).flatMap((m) => [`${m}/a`, `${m}/b`]);
    expect(reads).toEqual(ahead);
    expect(between.some((n) => n > 0 && n < ahead.length)).toBe(true);
    // The charts past those read ahead are read when asked for.
    const later = store.chart(metrics[SETTLE_AHEAD_CHARTS] as string);
    expect(later?.lines.size).toBe(2);
    expect(reads.length).toBe(ahead.length + 2);
  });

  it('leaves a failed read to the chart that is asked for', async () => {
    const store = new SeriesStore();
    const failed = new Error('index rewritten');
    store.series('a', 0, 'train', 'loss').defer(() => {
      throw failed;
    }, 1);
    await new Promise<void>((resolve) => settleAhead(store, ['loss'], resolve));
    expect(() => store.chart('loss')).toThrow(failed);
  });
});
