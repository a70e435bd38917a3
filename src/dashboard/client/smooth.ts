/**
 * TensorBoard's smoothing: an exponential moving average debiased like Adam's moments (divided by
 * 1 - weight^n), so the first points are not dragged towards 0. Non-finite values pass through
 * without entering the average; a constant series stays exactly constant.
 */
export function smooth(values: readonly (number | null)[], weight: number): (number | null)[] {
  if (weight <= 0) return values.slice();
  const first = values.find((v) => v !== null);
  const constant = values.every((v) => v === null || v === first);
  let last = 0;
  let n = 0;
  return values.map((v) => {
    if (v === null || constant || !Number.isFinite(v)) return v;
    last = last * weight + (1 - weight) * v;
    n++;
    return weight === 1 ? last : last / (1 - Math.pow(weight, n));
  });
}
