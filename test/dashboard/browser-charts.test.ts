/**
 * The charts people expect, in chromium: system charts by wall time in human units (or on the
 * training step by timestamp), unsmoothed unless asked; smoothing that reaches rank bands; a hover
 * readout that names only the lines with a point under the cursor, with the point's step and time.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDashboard, type RunningDashboard } from '../../src/dashboard/server.js';
import { hasChromium, launchChromium, NO_CHROMIUM, type BrowserHandle } from '../helpers/chromium.js';
import { scalarLine, systemLine, T0, writeRanks } from '../helpers/dashboard-runs.js';

/** The part of an element the page callbacks read (the tests compile without DOM types). */
interface Html {
  dataset: Record<string, string | undefined>;
  textContent: string | null;
}

const GIB = 2 ** 30;

describe.skipIf(!hasChromium)(`the charts in chromium${hasChromium ? '' : ` (${NO_CHROMIUM})`}`, () => {
  let chrome: BrowserHandle;
  let dir: string;
  const servers: RunningDashboard[] = [];

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-charts-'));
    chrome = await launchChromium();
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
    await chrome?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function open(folder: string): Promise<{ page: Page; errors: string[] }> {
    const server = await startDashboard({ inputs: [folder], port: 0 });
    servers.push(server);
    const page = await chrome.browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await page.setViewportSize({ width: 1400, height: 900 });
    await page.goto(server.url);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 15_000 });
    return { page, errors };
  }

  const chart = (metric: string): string => `.dash-chart[data-metric="${metric}"]`;
  const data = (page: Page, metric: string, key: string): Promise<string | undefined> =>
    page.$eval(chart(metric), (e, k) => (e as unknown as Html).dataset[k], key);
  const pixels = (page: Page, metric: string): Promise<string> =>
    page.$eval(`${chart(metric)} canvas`, (c) => (c as unknown as { toDataURL(): string }).toDataURL());

  /** Moves the mouse to `fraction` of the plot's width and returns the chart's readout. */
  async function hover(page: Page, metric: string, fraction: number): Promise<string> {
    const over = await page.$(`${chart(metric)} .u-over`);
    if (over === null) throw new Error(`${metric} has no plot area`);
    await over.scrollIntoViewIfNeeded();
    const box = await over.boundingBox();
    if (box === null) throw new Error(`${metric}'s plot area is not on screen`);
    await page.mouse.move(box.x + box.width * fraction, box.y + box.height / 2);
    return page.$eval(`${chart(metric)} .dash-readout`, (r) => (r as unknown as Html).textContent ?? '');
  }

  it('draws system charts against wall time in GiB and %, unsmoothed, and on the training step by timestamp when asked', async () => {
    // Training logs step s at T0 + s; the sampler's sample k (k = 0..20) is taken at T0 + 10 + 2k,
    // when training was at step 10 + 2k. Memory grows 64 MiB a sample; CPU jumps between 10 and 90 %.
    const run = path.join(dir, 'system', '.codex');
    fs.mkdirSync(run, { recursive: true });
    let text = '';
    for (let step = 0; step <= 60; step++) text += scalarLine(step, 'loss', 1 / (1 + step));
    for (let k = 0; k <= 20; k++) {
      text += systemLine(k, T0 + 10 + 2 * k, {
        ram_used_bytes: 24 * GIB + k * 64 * 2 ** 20,
        cpu_percent: k % 2 === 0 ? 10 : 90,
      });
    }
    fs.writeFileSync(path.join(run, 'metrics.ndjson'), text);
    const { page, errors } = await open(path.join(dir, 'system'));

    expect(await data(page, 'system/ram_used_bytes', 'axes')).toBe('wall time | bytes');
    expect(await data(page, 'system/cpu_percent', 'axes')).toBe('wall time | percent');
    const ramTicks = (await data(page, 'system/ram_used_bytes', 'yTicks')) ?? '';
    expect(ramTicks).toMatch(/^\d+\.\d+ GiB( \| \d+\.\d+ GiB)+$/);
    expect(new Set(ramTicks.split(' | ')).size).toBe(ramTicks.split(' | ').length);
    expect(await data(page, 'system/cpu_percent', 'yTicks')).toMatch(/ %$/);
    // A log axis keeps the unit.
    await page.check('#dash-log-y');
    expect(await data(page, 'system/ram_used_bytes', 'yTicks')).toMatch(/GiB/);
    await page.uncheck('#dash-log-y');
    // The middle of the wall-time axis is sample 10, at T0 + 30: 24.625 GiB, 30 s after sample 0.
    const byTime = await hover(page, 'system/ram_used_bytes', 0.5);
    expect(byTime).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d · /);
    expect(byTime).toContain('system · system: 24.63 GiB at step 30, +20 s');
    // Between two samples (2 s, some 30 px apart) the nearer one answers: a sparse line is not
    // left out for want of a point under the exact pixel.
    expect(await hover(page, 'system/ram_used_bytes', 0.52)).toMatch(
      / · system · system: 24\.6\d GiB at step 3\d, /,
    );

    // Smoothing leaves system charts as they are until they are asked to follow it.
    const cpu = await pixels(page, 'system/cpu_percent');
    const loss = await pixels(page, 'loss');
    await page.$eval('#dash-smoothing', (s) => {
      (s as unknown as { value: string }).value = '0.9';
      s.dispatchEvent(new (s.ownerDocument.defaultView as unknown as { Event: typeof Event }).Event('input'));
    });
    expect(await pixels(page, 'loss')).not.toBe(loss);
    expect(await pixels(page, 'system/cpu_percent')).toBe(cpu);
    await page.check('#dash-smooth-system');
    expect(await pixels(page, 'system/cpu_percent')).not.toBe(cpu);
    await page.uncheck('#dash-smooth-system');

    // Aligned to the training step: sample 10 sits at step 30 (its time), not at 10 (its number).
    await page.selectOption('#dash-system-x', 'step');
    expect(await data(page, 'system/ram_used_bytes', 'axes')).toBe('training step | bytes');
    const byStep = await hover(page, 'system/ram_used_bytes', 0.5);
    expect(byStep).toMatch(/^step 30 · system · system: 24\.63 GiB at step 30, \+20 s, \d{4}-/);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('smooths a multi-rank run drawn as a band (smoothing no longer does nothing for it)', async () => {
    const { page } = await open(writeRanks(path.join(dir, 'ranks'), 4, 200));
    const setSmoothing = (value: string): Promise<void> =>
      page.$eval(
        '#dash-smoothing',
        (s, v) => {
          (s as unknown as { value: string }).value = v;
          s.dispatchEvent(
            new (s.ownerDocument.defaultView as unknown as { Event: typeof Event }).Event('input'),
          );
        },
        value,
      );
    await setSmoothing('0');
    const raw = await pixels(page, 'loss');
    expect(await hover(page, 'loss', 0.5)).not.toContain('raw');
    await setSmoothing('0.95');
    expect(await pixels(page, 'loss')).not.toBe(raw);
    expect(await hover(page, 'loss', 0.5)).toMatch(
      /^step \d+ · ranks · train: [\d.]+ \(raw [\d.]+\), ranks [\d.]+–[\d.]+ at step \d+, /,
    );
    await page.close();
  });

  it('leaves out of the hover readout a run that ended before the cursor’s step, or has a gap there, and shows each point’s relative and wall time', async () => {
    const runs = path.join(dir, 'ended');
    const write = (name: string, steps: number[]): void => {
      fs.mkdirSync(path.join(runs, name, '.codex'), { recursive: true });
      fs.writeFileSync(
        path.join(runs, name, '.codex', 'metrics.ndjson'),
        steps.map((step) => scalarLine(step, 'loss', 1 + step / 100)).join(''),
      );
    };
    const range = (from: number, to: number): number[] =>
      Array.from({ length: to - from }, (_, i) => from + i);
    write('long', range(0, 200));
    write('short', range(0, 50));
    write('gappy', [...range(0, 40), ...range(160, 200)]);
    const { page, errors } = await open(runs);
    await page.$eval('#dash-smoothing', (s) => {
      (s as unknown as { value: string }).value = '0';
      s.dispatchEvent(new (s.ownerDocument.defaultView as unknown as { Event: typeof Event }).Event('input'));
    });

    // Step 119: short ended at 49, gappy pauses from 40 to 160.
    const gap = await hover(page, 'loss', 0.6);
    // The cursor lands within a pixel (a third of a step) of step 119.4.
    expect(gap).toMatch(/^step 1(19|20) · long · train: 2\.(19|2) at step 1(19|20), \+2\.0 min, [^·]*$/);
    expect(gap).not.toContain('short');
    expect(gap).not.toContain('gappy');
    const late = await hover(page, 'loss', 0.9);
    expect(late).toMatch(/^step 17\d · gappy · train: 2\.7\d+ at step 17\d, /);
    expect(late).toContain('long · train: ');
    expect(late).not.toContain('short');
    const early = await hover(page, 'loss', 0.1);
    for (const run of ['long', 'short', 'gappy']) expect(early).toContain(`${run} · train: `);
    // Each point names its wall time too.
    expect(early).toMatch(/at step 20, \+20 s, \d{4}-\d\d-\d\d \d\d:\d\d:\d\d/);
    expect(errors).toEqual([]);
    await page.close();
  });
});
