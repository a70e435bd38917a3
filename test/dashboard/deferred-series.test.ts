/** A series whose buckets are read when first drawn: they come before whatever was added since. */
import { describe, expect, it } from 'vitest';
import { BucketSeries } from '../../src/dashboard/bucket-series.js';

function filled(steps: number[]): BucketSeries {
  const s = new BucketSeries();
  for (const step of steps) s.add(step, 1000 + step, step / 10);
  return s;
}

describe('deferred buckets', () => {
  it('are read before points added after them, once, and counted from the start', () => {
    let loads = 0;
    const s = new BucketSeries();
    s.defer(() => {
      loads++;
      return filled([0, 1, 2]).state();
    }, 3);
    expect([s.points, s.length, s.unsettled, loads]).toEqual([3, 0, true, 0]);
    // A follower's new row: the deferred rows are read first, so the order stays the stream's.
    s.add(3, 1003, 0.3);
    expect([s.points, s.unsettled, loads]).toEqual([4, false, 1]);
    expect(s.state()).toEqual(filled([0, 1, 2, 3]).state());
    s.settle();
    expect(loads).toBe(1);
  });

  it('read in the order deferred, and a read that fails is thrown to every reader after', () => {
    const s = new BucketSeries();
    s.defer(() => filled([0, 1]).state(), 2);
    s.defer(() => filled([2]).state(), 1);
    s.settle();
    expect(s.state()).toEqual(filled([0, 1, 2]).state());

    const broken = new BucketSeries();
    const changed = new Error('index rewritten');
    broken.defer(() => {
      throw changed;
    }, 5);
    broken.defer(() => filled([9]).state(), 1);
    // A writer keeps its rows whatever became of the deferred ones.
    broken.add(10, 1010, 1);
    expect([broken.points, broken.unsettled]).toEqual([1, false]);
    expect(() => broken.settle()).toThrow(changed);
    expect(() => broken.settle()).toThrow(changed);
  });
});
