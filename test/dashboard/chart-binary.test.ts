/**
 * The binary chart answer (src/dashboard/chart-binary.ts) reads back as the JSON answer does: the
 * same model, values JSON cannot hold as null. Checked against JSON.stringify/parse, which is what
 * the page read before, not against the codec's own encoder.
 */
import { describe, expect, it } from 'vitest';
import { decodeChart, encodeChart } from '../../src/dashboard/chart-binary.js';
import { chartData } from '../../src/dashboard/chart-data.js';
import type { ChartModel } from '../../src/dashboard/chart-model.js';
import { SeriesStore } from '../../src/dashboard/series-store.js';

const asJson = (model: ChartModel): unknown => JSON.parse(JSON.stringify(model));

function roundTrip(model: ChartModel): ChartModel {
  const bytes = encodeChart(model);
  // The page gets an ArrayBuffer of the answer alone.
  return decodeChart(bytes.slice().buffer);
}

describe('the binary chart answer', () => {
  it('reads back as the JSON answer: ranks as bands, system series with their clock, marks, times missing', () => {
    const store = new SeriesStore();
    for (const rank of [0, 1, 2]) {
      const loss = store.series('r', rank, 'train', 'loss');
      for (let step = 0; step < 300; step++)
        loss.add(step, 1000 + step / 3, Math.sin(step / 7 + rank) * 1e-3 + 0.1);
      loss.add(300, 1100, Number.NaN);
      loss.add(301, 1100.5, Number.POSITIVE_INFINITY);
    }
    const untimed = store.series('u', 0, 'train', 'loss');
    for (let step = 0; step < 50; step++) untimed.add(step, Number.NaN, 1 / (step + 1));
    const ram = store.series('r', 0, 'system', 'ram_used_bytes');
    for (let sample = 0; sample < 40; sample++) ram.add(sample, 1000 + sample * 2.5, 8e9 + sample * 1e6);
    for (const metric of ['loss', 'system/ram_used_bytes']) {
      for (const width of [16, 100, 588]) {
        const model = chartData(store, metric, { width }) as ChartModel;
        expect(model.series.length).toBeGreaterThan(0);
        expect(roundTrip(model)).toEqual(asJson(model));
      }
    }
    const loss = chartData(store, 'loss', { width: 588 }) as ChartModel;
    expect(loss.series.some((s) => s.band && s.lo !== undefined)).toBe(true);
    expect(loss.series.some((s) => s.marks.length > 0)).toBe(true);
    // A missing time is NaN in the model and null in both answers.
    expect(loss.series.some((s) => s.ts.some((t) => Number.isNaN(t)))).toBe(true);
    const decoded = roundTrip(loss);
    expect(decoded.series.some((s) => s.ts.some((t) => t === null))).toBe(true);
  });

  it('keeps every float64 exactly and lays the values 8-byte aligned after any head length', () => {
    const values = [0.1, 1 / 3, 2 ** -1074, Number.MAX_VALUE, -123456789.12345679, 1760000025.6];
    for (let label = 0; label < 9; label++) {
      const model: ChartModel = {
        metric: 'm'.repeat(label + 1),
        section: 'scalars',
        series: [
          {
            id: 'a',
            run: 'a',
            phase: 'train',
            label: 'é'.repeat(label),
            color: '#000',
            dashed: false,
            rank: null,
            band: false,
            step: values.map((_, i) => i),
            ts: values,
            y: [...values].reverse(),
            marks: [[1, 2, 4]],
            points: values.length,
            nan: 0,
            posInf: 0,
            negInf: 0,
            t0: null,
          },
        ],
      };
      expect(roundTrip(model)).toEqual(asJson(model));
    }
  });
});
