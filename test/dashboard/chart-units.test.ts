/** The chart logic behind system units, step alignment, band smoothing and the hover readout. */
import { describe, expect, it } from 'vitest';
import { chartData } from '../../src/dashboard/chart-data.js';
import type { ChartModel, SeriesModel } from '../../src/dashboard/chart-model.js';
import { medianSpacing, nthSmallest, plotData } from '../../src/dashboard/client/plot-data.js';
import { nearestPoint, pointPlace } from '../../src/dashboard/client/readout.js';
import { smooth } from '../../src/dashboard/client/smooth.js';
import { axisUnit, plainTicks } from '../../src/dashboard/client/units.js';
import { chartMode, initialState, stepAtTime, xOf } from '../../src/dashboard/client/view-state.js';
import { SeriesStore } from '../../src/dashboard/series-store.js';
import { systemUnit } from '../../src/dashboard/system-unit.js';

function series(over: Partial<SeriesModel>): SeriesModel {
  return {
    id: 'a',
    run: 'a',
    phase: 'train',
    label: 'a',
    color: '#000000',
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

describe('system chart units', () => {
  it('reads each system key’s unit from the sampler’s key tables, disks and GPUs included', () => {
    expect(systemUnit('ram_used_bytes')).toBe('By');
    expect(systemUnit('cpu_percent')).toBe('%');
    expect(systemUnit('disk_nvme0n1_read_bytes')).toBe('By');
    expect(systemUnit('gpu_3_power_w')).toBe('W');
    expect(systemUnit('gpu_0_temp_c')).toBe('°C');
    expect(systemUnit('gpu_1_pcie_rx_bytes_per_s')).toBe('By/s');
    expect(systemUnit('load1')).toBe('runnable tasks');
    expect(systemUnit('not_a_key')).toBeUndefined();
  });

  it('writes bytes in GiB on round ticks, and a hover value with four digits', () => {
    const bytes = axisUnit('By', 'system/ram_used_bytes');
    const gib = 2 ** 30;
    const incrs = bytes.incrs?.(24 * gib) ?? [];
    expect(incrs).toContain(0.05 * gib);
    expect(bytes.ticks([22.4 * gib, 22.45 * gib, 22.5 * gib], 0.05 * gib)).toEqual([
      '22.40 GiB',
      '22.45 GiB',
      '22.50 GiB',
    ]);
    expect(bytes.value(2.5e10)).toBe('23.28 GiB');
    expect(bytes.value(512)).toBe('512 B');
    expect(axisUnit('By/s', '').value(3 * 2 ** 20)).toBe('3 MiB/s');
    expect(axisUnit('%', '').ticks([0, 50, 100], 50)).toEqual(['0 %', '50 %', '100 %']);
    expect(axisUnit('W', '').value(312.5)).toBe('312.5 W');
    expect(axisUnit('J', '').value(2.6e7)).toBe('26 MJ');
    expect(axisUnit('°C', '').value(71)).toBe('71 °C');
    expect(axisUnit(undefined, 'loss').title).toBe('loss');
    expect(axisUnit('runnable tasks', 'system/load1').title).toBe('runnable tasks');
  });

  it('gives neighbouring y ticks of huge values distinct labels (not `2.4e+10` five times)', () => {
    const ticks = [2.4115e10, 2.412e10, 2.4125e10, 2.413e10];
    const labels = plainTicks(ticks, 5e6);
    expect(new Set(labels).size).toBe(ticks.length);
    expect(labels[0]).toBe('2.4115e+10');
    expect(plainTicks([0.5, 1, 1.5], 0.5)).toEqual(['0.5', '1.0', '1.5']);
  });
});

describe('system charts on the time and step axes', () => {
  const clock = { ts: [100, 110, 130], step: [0, 10, 50] };

  it('places a sample at the training step logged at its time, and nowhere outside the run’s clock', () => {
    expect(stepAtTime(clock, 105)).toBe(5);
    expect(stepAtTime(clock, 120)).toBe(30);
    expect(stepAtTime(clock, 130)).toBe(50);
    expect(stepAtTime(clock, 99)).toBeNull();
    expect(stepAtTime(clock, 131)).toBeNull();
    expect(stepAtTime(undefined, 120)).toBeNull();
  });

  it('draws system charts against wall time and unsmoothed by default, scalars by step and smoothed', () => {
    const state = initialState();
    const system: ChartModel = {
      metric: 'system/ram_used_bytes',
      section: 'system: memory',
      unit: 'By',
      series: [series({ phase: 'system', step: [0, 1], ts: [105, 120], y: [1, 2], clock })],
    };
    const scalars: ChartModel = { metric: 'loss', section: 'scalars', series: [] };
    expect(chartMode(system, state)).toEqual({ mode: 'wall', smoothing: 0 });
    expect(chartMode(scalars, state)).toEqual({ mode: 'step', smoothing: state.smoothing });
    state.systemX = 'step';
    state.smoothSystem = true;
    expect(chartMode(system, state)).toEqual({ mode: 'step', smoothing: state.smoothing });
    const s = system.series[0] as SeriesModel;
    // Sample 1 was taken at time 120, when training was at step 30: not at its sequence number 1.
    expect(xOf(s, 1, 'step')).toBe(30);
    expect(xOf(s, 1, 'wall')).toBe(120);
    // A static report's samples have no times: drawn in sample order, whatever the toggle says.
    const untimed: ChartModel = { ...system, series: [series({ phase: 'system', step: [0, 1], y: [1, 2] })] };
    expect(chartMode(untimed, state).mode).toBe('sample');
  });

  it('sends a system chart its unit and its run’s clock from the run’s training steps', () => {
    const store = new SeriesStore();
    const train = store.series('r', 0, 'train', 'loss');
    for (let step = 0; step < 100; step++) train.add(step, 1000 + step * 2, 1 / (1 + step));
    const ram = store.series('r', 0, 'system', 'ram_used_bytes');
    for (let sample = 0; sample < 10; sample++) ram.add(sample, 1010 + sample * 10, 1e9);
    const chart = chartData(store, 'system/ram_used_bytes', { width: 560 });
    expect(chart?.unit).toBe('By');
    const only = chart?.series[0] as SeriesModel;
    // Sample 3 at time 1040: training logged step 20 then.
    expect(xOf(only, 3, 'step')).toBe(20);
    expect(chartData(store, 'loss', { width: 560 })?.series[0]?.clock).toBeUndefined();
  });
});

describe('a chart answer cut to its first lines', () => {
  it('answers the first `lines` lines in legend order, each as the whole answer draws it', () => {
    const store = new SeriesStore();
    for (const run of ['c', 'a', 'b']) {
      const loss = store.series(run, 0, 'train', 'loss');
      for (let step = 0; step < 50; step++) loss.add(step, 1000 + step, run.charCodeAt(0) + step);
    }
    const whole = chartData(store, 'loss', { width: 560 }) as ChartModel;
    expect(whole.series.map((s) => s.run)).toEqual(['a', 'b', 'c']);
    const first = chartData(store, 'loss', { width: 560, lines: 1 }) as ChartModel;
    expect(first.series).toEqual(whole.series.slice(0, 1));
    expect(chartData(store, 'loss', { width: 560, lines: 2 })?.series).toEqual(whole.series.slice(0, 2));
  });
});

describe('rank bands and the hover readout', () => {
  it('smooths a rank band’s median and both its edges with the chart’s weight', () => {
    const raw = { lo: [0, 4, 0, 4], hi: [2, 6, 2, 6], y: [1, 5, 1, 5] };
    const band = series({ band: true, step: [0, 1, 2, 3], ...raw });
    const state = initialState();
    const plot = plotData([band], state, { mode: 'step', smoothing: 0.6 });
    // Columns: x, raw median, smoothed median, max, min.
    expect(plot.data[1]).toEqual(raw.y);
    expect(plot.data[2]).toEqual(smooth(raw.y, 0.6));
    expect(plot.data[3]).toEqual(smooth(raw.hi, 0.6));
    expect(plot.data[4]).toEqual(smooth(raw.lo, 0.6));
    expect(plot.data[3]).not.toEqual(raw.hi);
    const unsmoothed = plotData([band], state, { mode: 'step', smoothing: 0 });
    expect(unsmoothed.data[2]).toEqual(raw.hi);
  });

  it('gives each line its own spacing and its points’ places on the shared rows, when asked', () => {
    const sparse = series({ id: 's', step: [0, 50, 100], y: [1, 2, 3] });
    const dense = series({ id: 'd', step: [0, 10, 20, 30], y: [4, 5, 6, 7] });
    const plot = plotData([sparse, dense], initialState(), { mode: 'step', smoothing: 0 });
    expect(plot.data[0]).toEqual([0, 10, 20, 30, 50, 100]);
    expect([plot.spacing(0), plot.spacing(1)]).toEqual([50, 10]);
    expect(plot.pointIndex(0)).toEqual([0, null, null, null, 1, 2]);
    expect(plot.pointIndex(1)).toEqual([0, 1, 2, 3, null, null]);
    expect(plot.points).toBe(7);
  });

  it('finds a line’s nearest point within reach of the cursor, and none past the end of a run', () => {
    const xs = [0, 10, 20, 30, 40];
    const ended = [1, 2, null, null, null];
    expect(nearestPoint(xs, ended, 11, 3)).toBe(1);
    expect(nearestPoint(xs, ended, 35, 3)).toBeNull();
    expect(nearestPoint(xs, ended, 35, 100)).toBe(1);
    expect(nearestPoint(xs, [1, null, null, 4, 5], 18, 15)).toBe(3);
    expect(nearestPoint(xs, [1, null, null, 4, 5], 14, 15)).toBe(0);
  });

  it('measures a line’s own spacing, so a sparse line answers between its points', () => {
    expect(medianSpacing([0, 50, 100, null, 150, 400])).toBe(50);
    expect(medianSpacing([3])).toBe(0);
    // The selection it takes the middle gap with, against a sort: duplicates, runs, every rank.
    let seed = 11;
    const random = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (const length of [1, 2, 3, 10, 101, 1000]) {
      for (const spread of [1, 5, 1e6]) {
        const values = Float64Array.from({ length }, () => Math.floor(random() * spread));
        const sorted = Float64Array.from(values).sort();
        for (const k of new Set([0, length >> 1, length - 1, Math.floor(random() * length)]))
          expect(nthSmallest(Float64Array.from(values), k)).toBe(sorted[k]);
      }
    }
    // Out of order (times of several hosts): sorted first, then the middle gap.
    expect(medianSpacing([60, 0, null, 30, 10])).toBe(20);
  });

  it('says where a point sits: its step, its time since the series began and its wall time', () => {
    const s = series({ step: [0, 7], ts: [1000, 1090], t0: 1000 });
    expect(pointPlace(s, 1, 'step')).toMatch(/^step 7, \+1\.5 min, \d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    expect(pointPlace(s, 1, 'wall')).toBe('step 7, +1.5 min');
    expect(pointPlace(s, 1, 'relative')).toMatch(/^step 7, \d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
  });
});
