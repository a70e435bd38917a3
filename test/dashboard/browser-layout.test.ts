/** What a new user sees first: an empty folder, chart order, widths, axis titles and labels. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDashboard, type RunningDashboard } from '../../src/dashboard/server.js';
import { hasChromium, launchChromium, NO_CHROMIUM, type BrowserHandle } from '../helpers/chromium.js';
import { scalarLine } from '../helpers/dashboard-runs.js';

interface Box {
  textContent: string | null;
  getBoundingClientRect(): { left: number; right: number; width: number };
  dataset: Record<string, string | undefined>;
}

describe.skipIf(!hasChromium)(
  `the dashboard's layout in chromium${hasChromium ? '' : ` (${NO_CHROMIUM})`}`,
  () => {
    let chrome: BrowserHandle;
    let dir: string;
    const servers: RunningDashboard[] = [];

    beforeAll(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-layout-'));
      chrome = await launchChromium();
    });
    afterAll(async () => {
      await Promise.all(servers.map((s) => s.close()));
      await chrome?.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('says it is waiting for runs in an empty folder, then shows them as they come, in name order', async () => {
      const empty = path.join(dir, 'empty');
      fs.mkdirSync(empty);
      const server = await startDashboard({ inputs: [empty], port: 0 });
      servers.push(server);
      const page = await chrome.browser.newPage();
      await page.goto(server.url);
      await page.waitForSelector('body[data-ready="true"]');
      expect(await page.$eval('.dash-empty', (e) => (e as unknown as Box).textContent)).toBe(
        `waiting for runs in ${empty}`,
      );
      // Metrics arrive in the order zeta, alpha, mid: the page lists them by name, as after a reload.
      let text = '';
      for (const name of ['zeta', 'alpha', 'mid']) {
        for (let step = 0; step < 5; step++) text += scalarLine(step, name, step * 1e19);
        fs.writeFileSync(path.join(empty, 'metrics.ndjson'), text);
        await page.waitForSelector(`.dash-chart[data-metric="${name}"]`, { timeout: 10_000 });
      }
      expect(await page.$eval('.dash-empty', (e) => (e as unknown as { hidden: boolean }).hidden)).toBe(true);
      const order = await page.$$eval('.dash-chart', (es) =>
        es.map((e) => (e as unknown as Box).dataset.metric),
      );
      expect(order).toEqual(['alpha', 'mid', 'zeta']);
      await page.reload();
      await page.waitForSelector('body[data-ready="true"]');
      expect(
        await page.$$eval('.dash-chart', (es) => es.map((e) => (e as unknown as Box).dataset.metric)),
      ).toEqual(order);
      await page.close();
    });

    it('fills a 1400 px window with charts, titles both axes', async () => {
      const run = path.join(dir, 'wide');
      fs.mkdirSync(run);
      let text = '';
      for (const name of ['a', 'b', 'c', 'd'])
        for (let step = 0; step < 50; step++) text += scalarLine(step, name, 2.5e19 + step * 1e17);
      fs.writeFileSync(path.join(run, 'metrics.ndjson'), text);
      const server = await startDashboard({ inputs: [run], port: 0 });
      servers.push(server);
      const page = await chrome.browser.newPage();
      // The page's script and stylesheet are inline, allowed by hash: a refused one says so here.
      const refused: string[] = [];
      page.on('console', (message) => {
        if (/Content Security Policy/.test(message.text())) refused.push(message.text());
      });
      await page.setViewportSize({ width: 1400, height: 900 });
      await page.goto(server.url);
      await page.waitForSelector('body[data-ready="true"]');
      const boxes = await page.$$eval('.dash-chart', (es) =>
        es.map((e) => (e as unknown as Box).getBoundingClientRect()),
      );
      const right = Math.max(...boxes.map((b) => b.right));
      // Two columns across the window, not two fixed 576 px cards and a quarter left empty.
      expect(new Set(boxes.map((b) => Math.round(b.left))).size).toBe(2);
      expect(right).toBeGreaterThan(1400 - 60);
      expect(refused).toEqual([]);
      // uPlot draws axis titles on the canvas; the card names the titles it asked for.
      const titles = await page.$eval(
        '.dash-chart[data-metric="a"]',
        (e) => (e as unknown as Box).dataset.axes,
      );
      expect(titles).toBe('step | a');
      await page.close();
    });
  },
);
