/**
 * The hover readout's choices, without a browser: which point of a line is under the cursor (none
 * when the line has no point near it: a run that ended, or has a gap, there), and where that
 * point sits in steps and time.
 */
import type { SeriesModel } from '../chart-model.js';
import { formatDuration, formatValue } from './format.js';
import { stepAtTime, type XMode } from './view-state.js';

/**
 * How far from the cursor a point still counts as under it, in CSS pixels, at the least: wider
 * than the server's pixel columns (one per pixel), so a dense line always answers. A sparse line
 * also answers within its own spacing (chart-view.ts).
 */
export const NEAR_PX = 6;

/**
 * The row of `column` nearest to `x` that holds a value, if it lies within `within` of `x`
 * (in x units); null otherwise. `xs` is sorted ascending.
 */
export function nearestPoint(
  xs: ArrayLike<number>,
  column: ArrayLike<number | null | undefined>,
  x: number,
  within: number,
): number | null {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((xs[mid] as number) < x) lo = mid + 1;
    else hi = mid;
  }
  let best: number | null = null;
  let bestDistance = Infinity;
  for (let j = lo; j < xs.length && (xs[j] as number) - x <= within; j++) {
    const v = column[j];
    if (v === null || v === undefined) continue;
    bestDistance = (xs[j] as number) - x;
    best = j;
    break;
  }
  for (let j = lo - 1; j >= 0 && x - (xs[j] as number) <= within; j--) {
    const v = column[j];
    if (v === null || v === undefined) continue;
    if (x - (xs[j] as number) <= bestDistance) best = j;
    break;
  }
  return best;
}

/** Local wall-clock time of Unix seconds `t`: `2026-12-07 05:21:03`. */
export function formatWall(t: number): string {
  const d = new Date(t * 1000);
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

/**
 * Where point `i` of `s` sits, besides the value: its step (for a system sample, the training step
 * at its time, when the run's clock has one), its time since the series began, and its wall time.
 */
export function pointPlace(s: SeriesModel, i: number, mode: XMode): string {
  const parts: string[] = [];
  const t = s.ts[i] ?? null;
  const step = s.phase === 'system' ? stepAtTime(s.clock, t) : (s.step[i] ?? null);
  if (step !== null) parts.push(`step ${formatValue(Math.round(step))}`);
  if (s.phase === 'system' && mode === 'sample') parts.push(`sample ${s.step[i] ?? ''}`);
  if (t !== null) {
    if (mode !== 'relative' && s.t0 !== null) parts.push(`+${formatDuration(t - s.t0)}`);
    if (mode !== 'wall') parts.push(formatWall(t));
  }
  return parts.join(', ');
}
