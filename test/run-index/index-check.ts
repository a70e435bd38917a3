/** Checks every bucket of a loaded index against the rows a full scan finds. */
import { expect } from 'vitest';
import * as R from '../../src/run-index/bucket-record.js';
import type { LoadedIndex } from '../../src/run-index/stream-index.js';
import { fullScan, plainBucket, type PlainBucket, type ScannedRow } from './full-scan.js';

export function bucketAt(d: Float64Array, o: number): PlainBucket & { level: number; series: number } {
  return {
    series: d[o + R.SERIES] as number,
    level: d[o + R.LEVEL] as number,
    count: d[o + R.COUNT] as number,
    nan: d[o + R.NAN] as number,
    posInf: d[o + R.POS_INF] as number,
    negInf: d[o + R.NEG_INF] as number,
    firstStep: d[o + R.FIRST_STEP] as number,
    lastStep: d[o + R.LAST_STEP] as number,
    firstTs: d[o + R.FIRST_TS] as number,
    lastTs: d[o + R.LAST_TS] as number,
    min: d[o + R.MIN] as number,
    minStep: d[o + R.MIN_STEP] as number,
    max: d[o + R.MAX] as number,
    maxStep: d[o + R.MAX_STEP] as number,
    last: d[o + R.LAST] as number,
    sum: d[o + R.SUM] as number,
    offset: d[o + R.OFFSET] as number,
    lastOffset: d[o + R.LAST_OFFSET] as number,
  };
}

export function allBuckets(index: LoadedIndex): ReturnType<typeof bucketAt>[] {
  const out: ReturnType<typeof bucketAt>[] = [];
  const arrays = [...index.blocks.map((b) => b.records), index.open];
  for (const d of arrays) for (let o = 0; o < d.length; o += R.RECORD_COLUMNS) out.push(bucketAt(d, o));
  return out;
}

/**
 * Every bucket equals the bucket of the rows it spans (by offset), and the level-0 buckets, open
 * ones included, hold every row of every series exactly once. Returns the buckets checked.
 */
export async function expectSameAsFullScan(index: LoadedIndex, file: string): Promise<number> {
  const rows = await fullScan(file);
  const buckets = allBuckets(index);
  const covered = new Map<string, number>();
  for (const bucket of buckets) {
    const def = index.defs[bucket.series];
    expect(def).toBeDefined();
    const key = `${def?.run}|${def?.phase}|${def?.name}`;
    const series = rows.get(key) ?? [];
    const span = series.filter((r: ScannedRow) => r.offset >= bucket.offset && r.offset <= bucket.lastOffset);
    const { sum, level: _level, series: _series, ...rest } = bucket;
    const expected = plainBucket(span);
    expect({ key, ...rest }).toEqual({ key, ...withoutSum(expected) });
    expect(sum).toBeCloseTo(expected.sum, 6);
    if (bucket.level === 0) covered.set(key, (covered.get(key) ?? 0) + bucket.count);
  }
  for (const [key, series] of rows)
    expect({ key, rows: covered.get(key) ?? 0 }).toEqual({ key, rows: series.length });
  return buckets.length;
}

function withoutSum(bucket: PlainBucket): Omit<PlainBucket, 'sum'> {
  const { sum: _sum, ...rest } = bucket;
  return rest;
}
