/**
 * OTel explicit-bucket histogram → TensorBoard's legacy HistogramProto.
 *
 * OTel buckets are `(boundaries[i-1], boundaries[i]]` plus an overflow bucket above the last
 * boundary. HistogramProto stores each bucket's upper edge; TensorBoard takes the first bucket's
 * lower edge from `min` and the last one's upper edge from `max` (data_compat's histogram
 * migration). So, as tensorboardX does, empty buckets at both ends are dropped: an empty bucket
 * below `min` would otherwise become an inverted [min, edge] bucket on the chart.
 */
import type { HistogramValue } from './event-encoder.js';

/** The part of an explicit-bucket histogram this needs; OTel's `Histogram` has this shape. */
export interface BucketHistogram {
  readonly buckets: { readonly boundaries: readonly number[]; readonly counts: readonly number[] };
  readonly count: number;
  readonly sum?: number;
  readonly min?: number;
  readonly max?: number;
}

export function toTensorBoardHistogram(value: BucketHistogram): HistogramValue | undefined {
  const { boundaries, counts } = value.buckets;
  let first = 0;
  while (first < counts.length && counts[first] === 0) first++;
  if (first === counts.length || value.count === 0) return undefined;
  let last = counts.length - 1;
  while (counts[last] === 0) last--;

  // Without recorded min/max (recordMinMax: false), the populated buckets' edges bound the data.
  const min = value.min ?? boundaries[first - 1] ?? boundaries[0] ?? 0;
  const max = value.max ?? boundaries[last] ?? boundaries.at(-1) ?? min;
  const bucketLimit: number[] = [];
  for (let i = first; i <= last; i++)
    bucketLimit.push(i < boundaries.length ? (boundaries[i] as number) : max);
  const sum = value.sum ?? 0;
  const mean = sum / value.count;
  return {
    min,
    max,
    num: value.count,
    sum,
    // OTel keeps no sum of squares; mean² · n is its lower bound (zero variance), which keeps
    // TensorBoard's variance non-negative. TensorBoard's charts draw from the buckets.
    sumSquares: mean * mean * value.count,
    bucketLimit,
    bucket: counts.slice(first, last + 1),
  };
}
