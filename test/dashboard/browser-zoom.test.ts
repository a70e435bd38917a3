/**
 * Drag-zoom in a real browser (Debian's chromium) on a stream opened from its run index: a first
 * drag draws the window from index buckets (min/max envelopes), a second, narrower one every row
 * of its window exactly as logged, and a double-click goes back to the overview.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChartModel } from '../../src/dashboard/chart-model.js';
import { startDashboard, type RunningDashboard } from '../../src/dashboard/server.js';
import { loadStreamIndex } from '../../src/run-index/stream-index.js';
import { hasChromium, launchChromium, NO_CHROMIUM, type BrowserHandle } from '../helpers/chromium.js';

interface Html {
  dataset: Record<string, string | undefined>;
}

const ROOT = path.resolve(import.meta.dirname, '../..');
/** Over 16 MiB of stream, so the dashboard opens it from its index, as it does a long run. */
const STEPS = 160_000;

/** loss every step (NaN, +Infinity or -Infinity every 997th), nothing else. */
function lossValue(step: number): number {
  if (step % 997 === 5) return [NaN, Infinity, -Infinity][step % 3] as number;
  return Math.sin(step / 50) + step / STEPS;
}

function writeStream(file: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const fd = fs.openSync(file, 'w');
  let chunk = '';
  for (let step = 0; step < STEPS; step++) {
    const v = lossValue(step);
    const value = Number.isFinite(v) ? String(v) : `"${String(v)}"`;
    chunk += `{"v":1,"ts":${1.7e9 + step * 0.1},"run_id":"zoom","step":${step},"name":"loss","value":${value},"tags":{"phase":"train","pad":"${'x'.repeat(20)}"}}\n`;
    if (chunk.length > 1 << 20) {
      fs.writeSync(fd, chunk);
      chunk = '';
    }
  }
  fs.writeSync(fd, chunk);
  fs.closeSync(fd);
}

describe.skipIf(!hasChromium)(`drag-zoom in chromium${hasChromium ? '' : ` (${NO_CHROMIUM})`}`, () => {
  let chrome: BrowserHandle;
  let dir: string;
  let server: RunningDashboard;

  beforeAll(async () => {
    if (!fs.existsSync(path.join(ROOT, 'dist/src/dashboard/assets/dashboard.js')))
      throw new Error('the dashboard bundle is missing: run "npm run build" before these tests');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-browser-zoom-'));
    const stream = path.join(dir, 'run', '.codex', 'metrics.ndjson');
    writeStream(stream);
    expect(fs.statSync(stream).size).toBeGreaterThan(16 << 20);
    await loadStreamIndex(stream);
    server = await startDashboard({ inputs: [path.join(dir, 'run')], port: 0 });
    chrome = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await server?.close();
    await chrome?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Drags across the loss plot from `a` to `b` (fractions of its width); resolves with the zoom answer. */
  async function drag(page: Page, a: number, b: number): Promise<ChartModel> {
    const box = await (await page.$('.dash-chart[data-metric="loss"] .u-over'))?.boundingBox();
    if (box === null || box === undefined) throw new Error('the loss chart has no plot area');
    const answer = page.waitForResponse((r) => r.url().includes('/api/zoom?'));
    await page.mouse.move(box.x + box.width * a, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * b, box.y + box.height / 2, { steps: 5 });
    await page.mouse.up();
    return (await (await answer).json()) as ChartModel;
  }

  const chart = (page: Page): Promise<Record<string, string | undefined>> =>
    page.$eval('.dash-chart[data-metric="loss"]', (e) => ({ ...(e as unknown as Html).dataset }));

  it('draws a wide window as envelopes and a narrow one with every point exactly as logged', async () => {
    const page = await chrome.browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await page.goto(server.url);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
    const overview = await chart(page);

    const wide = await drag(page, 0.3, 0.6);
    const [wideFrom, wideTo] = wide.window as [number, number];
    expect(wideTo - wideFrom).toBeGreaterThan(20_000);
    expect(wide.series[0]?.zoom?.mode).toBe('envelope');
    await expect.poll(async () => (await chart(page)).zoom, { timeout: 5_000 }).toBe('envelope');

    // Narrower: a few pixels of that window hold a couple of thousand steps.
    const narrow = await drag(page, 0.5, 0.53);
    const [from, to] = narrow.window as [number, number];
    expect(to - from).toBeLessThan(4096);
    await expect.poll(async () => (await chart(page)).zoom, { timeout: 5_000 }).toBe('exact');
    const steps: number[] = [];
    for (let step = Math.ceil(from); step <= to; step++) steps.push(step);
    const finite = steps.filter((s) => Number.isFinite(lossValue(s)));
    const series = narrow.series[0];
    expect(series?.step).toEqual(finite);
    expect(series?.y).toEqual(finite.map(lossValue));
    expect(series?.marks.map((m) => m[0])).toEqual(steps.filter((s) => !Number.isFinite(lossValue(s))));
    // Every one of those points is drawn.
    expect(Number((await chart(page)).points)).toBe(finite.length);

    // A double-click goes back to the whole run.
    const box = await (await page.$('.dash-chart[data-metric="loss"] .u-over'))?.boundingBox();
    if (box === null || box === undefined) throw new Error('the loss chart has no plot area');
    await page.mouse.dblclick(box.x + box.width / 2, box.y + box.height / 2);
    await expect.poll(async () => (await chart(page)).zoom, { timeout: 5_000 }).toBe('');
    expect((await chart(page)).points).toBe(overview.points);
    expect(errors).toEqual([]);
    await page.close();
  });
});
