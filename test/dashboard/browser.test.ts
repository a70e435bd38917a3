/**
 * The dashboard in a real browser (Debian's chromium): what a user sees, what the controls change,
 * live updates, hostile names, and the static report opened from file://. Screenshots go to
 * test-output/ (linked from README).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDashboard, type RunningDashboard } from '../../src/dashboard/server.js';
import { hasChromium, launchChromium, NO_CHROMIUM, type BrowserHandle } from '../helpers/chromium.js';
import { scalarLine, writeRanks, writeRun } from '../helpers/dashboard-runs.js';

/** The part of an element the page callbacks read (the tests compile without DOM types). */
interface Html {
  dataset: Record<string, string | undefined>;
}

const ROOT = path.resolve(import.meta.dirname, '../..');
const SHOTS = path.join(ROOT, 'test-output');
const CLI = path.join(ROOT, 'dist/src/cli');

if (hasChromium && !fs.existsSync(path.join(ROOT, 'dist/src/dashboard/assets/dashboard.js'))) {
  throw new Error('the dashboard bundle is missing: run "npm run build" before these tests');
}

describe.skipIf(!hasChromium)(`the dashboard in chromium${hasChromium ? '' : ` (${NO_CHROMIUM})`}`, () => {
  let chrome: BrowserHandle;
  let dir: string;
  const servers: RunningDashboard[] = [];

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-dashboard-'));
    fs.mkdirSync(SHOTS, { recursive: true });
    chrome = await launchChromium();
  });

  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
    await chrome?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function serve(...inputs: string[]): Promise<RunningDashboard> {
    const server = await startDashboard({ inputs, port: 0 });
    servers.push(server);
    return server;
  }

  /** A page that records console errors and page errors; resolves once every chart is drawn. */
  async function open(url: string): Promise<{ page: Page; errors: string[] }> {
    const page = await chrome.browser.newPage();
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 15_000 });
    return { page, errors };
  }

  const points = (page: Page, metric: string): Promise<number> =>
    page.$eval(`.dash-chart[data-metric="${metric}"]`, (e) => Number((e as unknown as Html).dataset.points));
  const pixels = (page: Page, metric: string): Promise<string> =>
    page.$eval(`.dash-chart[data-metric="${metric}"] canvas`, (c) =>
      (c as unknown as { toDataURL(): string }).toDataURL(),
    );

  it('draws every chart of a demo run, with no console error, and marks each with its metric and points', async () => {
    const out = path.join(dir, 'demo');
    const demo = spawnSync(
      process.execPath,
      [
        path.join(CLI, 'codex-telemetry.js'),
        'demo',
        '--out',
        out,
        '--steps',
        '200',
        '--step-delay-ms',
        '2',
        '--system-metrics-interval',
        '0.1',
        '--no-prometheus',
        '--no-wandb',
        '--no-tensorboard',
      ],
      { encoding: 'utf8' },
    );
    expect(demo.status, demo.stderr).toBe(0);
    const server = await serve(out);
    const { page, errors } = await open(server.url);
    // A chart off screen loads when it is scrolled into view.
    for (const metric of await page.$$eval('.dash-chart', (els) =>
      els.map((e) => (e as unknown as Html).dataset.metric as string),
    )) {
      const card = `.dash-chart[data-metric="${metric}"]`;
      await page.$eval(card, (e) => (e as unknown as { scrollIntoView(): void }).scrollIntoView());
      await page.waitForSelector(`${card}:not([data-points="0"])`, { timeout: 10_000 });
    }
    const charts = await page.$$eval('.dash-chart', (els) =>
      els.map(
        (e) =>
          [(e as unknown as Html).dataset.metric, Number((e as unknown as Html).dataset.points)] as const,
      ),
    );
    expect(charts.map(([m]) => m)).toEqual(
      expect.arrayContaining(['loss', 'lr', 'system/cpu_percent', 'system/ram_used_bytes']),
    );
    for (const [metric, n] of charts) expect(n, metric).toBeGreaterThan(0);
    // 200 train points and the 4 evals (every 50 steps) drawn over them on the same chart.
    expect(await points(page, 'loss')).toBe(204);
    expect(await page.$$eval('.dash-section h2', (hs) => hs.map((h) => h.textContent))).toEqual(
      expect.arrayContaining(['scalars', 'system: cpu', 'system: memory']),
    );
    await page.screenshot({ path: path.join(SHOTS, 'dashboard-demo.png') });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('shows a line appended to a followed file within 1 s, and new metrics and runs, without a reload', async () => {
    const live = path.join(dir, 'live');
    const run = writeRun(path.join(live, 'growing'), 50);
    const server = await serve(live);
    const { page, errors } = await open(server.url);
    expect(await points(page, 'lr')).toBe(50);
    const appended = Date.now();
    fs.appendFileSync(
      path.join(run, '.codex', 'metrics.ndjson'),
      scalarLine(50, 'lr', 0.5) + scalarLine(50, 'brand_new', 1),
    );
    await page.waitForSelector('.dash-chart[data-metric="lr"][data-points="51"]', { timeout: 5_000 });
    expect(Date.now() - appended).toBeLessThan(1000);
    await page.waitForSelector('.dash-chart[data-metric="brand_new"][data-points="1"]', { timeout: 5_000 });
    writeRun(path.join(live, 'second'), 30);
    await page.waitForSelector('.dash-run[data-run="second"]', { timeout: 10_000 });
    await page.waitForSelector('.dash-chart[data-metric="lr"][data-points="81"]', { timeout: 5_000 });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('changes what is drawn on smoothing, log scale, x as step, relative or wall time, run toggling, drag-zoom and double-click', async () => {
    const runs = path.join(dir, 'three');
    writeRun(path.join(runs, 'baseline'), 300, 1);
    writeRun(path.join(runs, 'wider'), 300, 0.8);
    writeRun(
      path.join(runs, 'lr-x2'),
      240,
      1.3,
      scalarLine(241, 'loss', NaN) + scalarLine(242, 'loss', Infinity),
    );
    const server = await serve(runs);
    const { page, errors } = await open(server.url);
    await page.screenshot({ path: path.join(SHOTS, 'dashboard-three-runs.png') });
    expect(await page.$$eval('.dash-run', (bs) => bs.map((b) => b.textContent).sort())).toEqual([
      'baseline',
      'lr-x2',
      'wider',
    ]);
    const legend = await page.$eval(
      '.dash-chart[data-metric="loss"] .dash-legend',
      (l) => l.textContent ?? '',
    );
    expect(legend).toContain('1 NaN, 1 +Inf');

    const before = await pixels(page, 'loss');
    await page.$eval('#dash-smoothing', (s) => {
      (s as unknown as { value: string }).value = '0';
      s.dispatchEvent(new (s.ownerDocument.defaultView as unknown as { Event: typeof Event }).Event('input'));
    });
    const unsmoothed = await pixels(page, 'loss');
    expect(unsmoothed).not.toBe(before);
    await page.check('#dash-log-y');
    expect(await pixels(page, 'loss')).not.toBe(unsmoothed);
    await page.uncheck('#dash-log-y');
    const byStep = await pixels(page, 'loss');
    await page.selectOption('#dash-x', 'relative');
    const relative = await pixels(page, 'loss');
    expect(relative).not.toBe(byStep);
    await page.selectOption('#dash-x', 'wall');
    expect(await pixels(page, 'loss')).not.toBe(relative);
    await page.selectOption('#dash-x', 'step');

    // wider: 300 train points and 15 eval points leave the chart with the run.
    const allPoints = await points(page, 'loss');
    await page.click('.dash-run[data-run="wider"]');
    expect(await points(page, 'loss')).toBe(allPoints - 315);
    expect(await page.$eval('.dash-run[data-run="wider"]', (b) => b.getAttribute('aria-pressed'))).toBe(
      'false',
    );
    await page.click('.dash-run[data-run="wider"]');

    const b = await (await page.$('.dash-chart[data-metric="loss"] .u-over'))?.boundingBox();
    if (b === null || b === undefined) throw new Error('the loss chart has no plot area');
    const full = await pixels(page, 'loss');
    await page.mouse.move(b.x + b.width * 0.5, b.y + b.height / 2);
    const readout = await page.$eval(
      '.dash-chart[data-metric="loss"] .dash-readout',
      (r) => r.textContent ?? '',
    );
    expect(readout).toMatch(/^step \d+ · /);
    expect(readout).toContain('baseline · train: ');
    await page.mouse.down();
    await page.mouse.move(b.x + b.width * 0.7, b.y + b.height / 2, { steps: 5 });
    await page.mouse.up();
    expect(await pixels(page, 'loss')).not.toBe(full);
    // The server sends the zoomed step range alone (fewer points, each step exact); a double-click
    // asks for the whole run again.
    await expect.poll(() => points(page, 'loss'), { timeout: 5_000 }).toBeLessThan(allPoints / 2);
    await page.mouse.dblclick(b.x + b.width * 0.5, b.y + b.height / 2);
    await page.mouse.move(0, 0);
    await expect.poll(() => pixels(page, 'loss'), { timeout: 5_000 }).toBe(full);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('filters charts by regular expression, pins a chart to the top, and downloads its data as CSV', async () => {
    const server = await serve(writeRun(path.join(dir, 'controls'), 60));
    const { page } = await open(server.url);
    await page.fill('#dash-filter', '^l[r]$');
    expect(
      await page.$$eval('.dash-chart:not([hidden])', (els) =>
        els.map((e) => (e as unknown as Html).dataset.metric),
      ),
    ).toEqual(['lr']);
    await page.fill('#dash-filter', '');
    await page.click('.dash-chart[data-metric="lr"] .dash-pin');
    expect(
      await page.$$eval('.dash-pinned .dash-chart', (els) =>
        els.map((e) => (e as unknown as Html).dataset.metric),
      ),
    ).toEqual(['lr']);
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.click('.dash-chart[data-metric="loss"] .dash-csv'),
    ]);
    const csv = fs.readFileSync((await download.path()) as string, 'utf8').split('\r\n');
    expect(csv[0]).toBe('metric,series,run,phase,rank,step,time,value,band_min,band_max');
    expect(csv.filter((l) => l.startsWith('loss,controls · train,'))).toHaveLength(60);
    expect(csv.filter((l) => l.startsWith('loss,controls · eval,'))).toHaveLength(3);
    await page.close();
  });

  it('draws the ranks of a run as a median line with a min–max band, and any rank alone', async () => {
    const server = await serve(writeRanks(path.join(dir, 'ranks'), 4, 200));
    const { page } = await open(server.url);
    expect(
      await page.$eval('.dash-chart[data-metric="loss"]', (e) => (e as unknown as Html).dataset.series),
    ).toBe('1');
    expect(await page.$eval('.dash-chart[data-metric="loss"] .dash-legend', (l) => l.textContent)).toContain(
      'median, min–max of ranks',
    );
    await page.screenshot({ path: path.join(SHOTS, 'dashboard-ranks.png') });
    const band = await pixels(page, 'loss');
    await page.selectOption('.dash-rank', '2');
    expect(await pixels(page, 'loss')).not.toBe(band);
    expect(await page.$eval('.dash-chart[data-metric="loss"] .dash-legend', (l) => l.textContent)).toContain(
      'rank 2',
    );
    expect(await points(page, 'loss')).toBe(200);
    await page.close();
  });

  it('shows a metric named <img src=x onerror=...> as text and runs none of it', async () => {
    const name = '<img src=x onerror="window.__pwned=1">';
    const run = path.join(dir, 'hostile', '<b>run</b>');
    writeRun(run, 10, 1, scalarLine(1, name, 1) + scalarLine(2, name, 2));
    const server = await serve(path.join(dir, 'hostile'));
    const { page, errors } = await open(server.url);
    const titles = await page.$$eval('.dash-title', (ts) => ts.map((t) => t.textContent));
    expect(titles).toContain(name);
    expect(await page.$$eval('.dash-run', (bs) => bs.map((b) => b.textContent))).toEqual(['<b>run</b>']);
    expect(await page.$$('img')).toHaveLength(0);
    expect(await page.$$('main b')).toHaveLength(0);
    expect(await page.evaluate(() => (globalThis as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(errors).toEqual([]);
    await page.close();
  });

  it('draws the static summarize report from file:// with the same charts and controls', async () => {
    const run = writeRun(path.join(dir, 'static'), 120);
    const report = path.join(dir, 'report.html');
    const result = spawnSync(
      process.execPath,
      [path.join(CLI, 'codex-ndjson.js'), 'summarize', run, '--format', 'html', '--out', report],
      { encoding: 'utf8' },
    );
    expect(result.status, result.stderr).toBe(0);
    const { page, errors } = await open(`file://${report}`);
    const charts = await page.$$eval('#dashboard .dash-chart', (els) =>
      els.map((e) => [(e as unknown as Html).dataset.metric, Number((e as unknown as Html).dataset.points)]),
    );
    expect(charts).toEqual(
      expect.arrayContaining([
        ['loss', 126],
        ['lr', 120],
      ]),
    );
    const before = await pixels(page, 'loss');
    await page.check('#dash-log-y');
    expect(await pixels(page, 'loss')).not.toBe(before);
    expect(errors).toEqual([]);
    await page.close();
  });
});
