/**
 * The store-wide bucket budget (src/dashboard/bucket-budget.ts), on a real dashboard server reading
 * real files: one run keeps 4096 buckets a series, the series past the budget halve every cap, and
 * the cap stops at its floor, with a spike kept and the counters in `/api/index`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  MIN_SERIES_BUCKETS,
  STORE_BUCKET_BUDGET,
  type BucketBudgetCounters,
} from '../../src/dashboard/bucket-budget.js';
import { MAX_BUCKETS, type BucketSeries } from '../../src/dashboard/bucket-series.js';
import type { SeriesModel } from '../../src/dashboard/chart-model.js';
import { startDashboard, type RunningDashboard } from '../../src/dashboard/server.js';
import { scalarLine } from '../helpers/dashboard-runs.js';

/** Steps of `loss`: under MAX_BUCKETS, so one run holds every point in its own bucket. */
const LOSS_STEPS = 4000;
const SPIKE_STEP = 1234;
const SPIKE = 1e6;

let dir: string;
let dashboard: RunningDashboard | undefined;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'store-budget-'));
});
afterEach(async () => {
  await dashboard?.close();
  dashboard = undefined;
  fs.rmSync(dir, { recursive: true, force: true });
});

/** `loss` at every step (one spike), then `others` names of one point each: 1 + others series. */
function writeStream(file: string, others: number): void {
  let text = '';
  for (let step = 0; step < LOSS_STEPS; step++)
    text += scalarLine(step, 'loss', step === SPIKE_STEP ? SPIKE : 1 + Math.sin(step / 50));
  for (let i = 0; i < others; i++) text += scalarLine(0, `other/m${String(i).padStart(5, '0')}`, i);
  fs.writeFileSync(file, text);
}

async function counters(): Promise<BucketBudgetCounters> {
  const answer = await fetch(`${(dashboard as RunningDashboard).url}api/index`);
  return ((await answer.json()) as { buckets: BucketBudgetCounters }).buckets;
}

function lossSeries(): BucketSeries {
  const chart = (dashboard as RunningDashboard).live.store.chart('loss');
  const line = [...(chart?.lines.values() ?? [])][0];
  const series = line?.ranks.get(0);
  if (series === undefined) throw new Error('the dashboard holds no loss series');
  return series;
}

async function lossChart(): Promise<SeriesModel> {
  const answer = await fetch(`${(dashboard as RunningDashboard).url}api/chart?metric=loss&width=2000`);
  return ((await answer.json()) as { series: SeriesModel[] }).series[0] as SeriesModel;
}

describe('the store-wide bucket budget', () => {
  it('keeps 4096 buckets a series while the series fit the budget, as one run always has', async () => {
    const fits = STORE_BUCKET_BUDGET / MAX_BUCKETS;
    writeStream(path.join(dir, 'metrics.ndjson'), fits - 1);
    dashboard = await startDashboard({ inputs: [dir], port: 0 });
    const held = await counters();
    expect(held).toMatchObject({ series: fits, perSeries: MAX_BUCKETS, shrinks: 0, overBudget: false });
    // Every point its own bucket: nothing merged.
    expect(lossSeries().length).toBe(LOSS_STEPS);
    expect(lossSeries().width).toBe(1);
  });

  it('halves every series cap once one more series than the budget fits arrives, and keeps the spike', async () => {
    const fits = STORE_BUCKET_BUDGET / MAX_BUCKETS;
    const file = path.join(dir, 'metrics.ndjson');
    writeStream(file, fits - 1);
    dashboard = await startDashboard({ inputs: [dir], port: 0 });
    expect((await counters()).perSeries).toBe(MAX_BUCKETS);
    // The series past the budget arrives while the server follows the stream.
    fs.appendFileSync(file, scalarLine(1, 'late', 1));
    await dashboard.live.tick();
    const held = await counters();
    expect(held).toMatchObject({ series: fits + 1, perSeries: MAX_BUCKETS / 2, shrinks: 1 });
    expect(lossSeries().length).toBeLessThanOrEqual(MAX_BUCKETS / 2);
    expect(lossSeries().data.length).toBeLessThanOrEqual((MAX_BUCKETS / 2) * 14);
    expect(held.bytesHeld).toBeLessThanOrEqual(STORE_BUCKET_BUDGET * 14 * 8);
    const loss = await lossChart();
    expect(loss.points).toBe(LOSS_STEPS);
    expect(Math.max(...loss.y, ...(loss.hi ?? []))).toBe(SPIKE);
    expect(loss.step[loss.y.indexOf(SPIKE)]).toBe(SPIKE_STEP);
  });

  it('stops at MIN_SERIES_BUCKETS a series past the budget, and says it is over it', async () => {
    const atFloor = STORE_BUCKET_BUDGET / MIN_SERIES_BUCKETS;
    // Spread over runs (folders) as a many-run open is: the budget is the whole store's.
    for (let run = 0; run < 4; run++) {
      const folder = path.join(dir, `run-${run}`);
      fs.mkdirSync(folder);
      writeStream(path.join(folder, 'metrics.ndjson'), atFloor);
    }
    dashboard = await startDashboard({ inputs: [dir], port: 0 });
    const held = await counters();
    expect(held.series).toBeGreaterThan(atFloor);
    expect(held).toMatchObject({ perSeries: MIN_SERIES_BUCKETS, overBudget: true, shrinks: 3 });
    for (const chart of dashboard.live.store.charts.values())
      for (const line of chart.lines.values())
        for (const series of line.ranks.values()) {
          expect(series.length).toBeLessThanOrEqual(MIN_SERIES_BUCKETS);
          expect(series.data.length).toBeLessThanOrEqual(MIN_SERIES_BUCKETS * 14);
        }
    // A long series keeps at least half the floor: about one bucket per pixel column.
    expect(lossSeries().length).toBeGreaterThan(MIN_SERIES_BUCKETS / 2);
    expect(held.bytesHeld).toBeLessThanOrEqual(held.series * MIN_SERIES_BUCKETS * 14 * 8);
    const loss = await lossChart();
    expect(loss.points).toBe(LOSS_STEPS);
  });
});
