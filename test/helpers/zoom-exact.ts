/** The check of an exact `/api/zoom` answer against the rows a full scan of the stream gives. */
import { expect } from 'vitest';
import type { SeriesModel } from '../../src/dashboard/chart-model.js';
import type { ScannedRow } from '../run-index/full-scan.js';

/** What an exact answer must hold: finite rows as the line, the others as marks, all at their steps. */
export function expectExact(series: SeriesModel, rows: readonly ScannedRow[]): void {
  const finite = rows.filter((r) => Number.isFinite(r.value));
  const other = rows.filter((r) => !Number.isFinite(r.value));
  expect(series.zoom?.mode).toBe('exact');
  expect(series.zoom?.rows).toBe(rows.length);
  expect(series.step).toEqual(finite.map((r) => r.step));
  expect(series.y).toEqual(finite.map((r) => r.value));
  expect(series.ts).toEqual(finite.map((r) => r.ts));
  const bits = (v: number): number => (Number.isNaN(v) ? 1 : v > 0 ? 2 : 4);
  expect(series.marks).toEqual(other.map((r) => [r.step, r.ts, bits(r.value)]));
}
