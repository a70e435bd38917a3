/**
 * What the first render of a big run costs the page: only the charts on screen are fetched (a
 * chart off screen is its card with its title until it is scrolled into view), and a run with more
 * charts than the server lists at once is searched on the server from the filter box.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_INDEX_CHARTS } from '../../src/dashboard/series-store.js';
import { startDashboard, type RunningDashboard } from '../../src/dashboard/server.js';
import { hasChromium, launchChromium, NO_CHROMIUM, type BrowserHandle } from '../helpers/chromium.js';
import { scalarLine } from '../helpers/dashboard-runs.js';

interface Card {
  textContent: string | null;
  dataset: Record<string, string | undefined>;
  scrollIntoView(): void;
}

const name = (i: number): string => `metric_${String(i).padStart(4, '0')}`;

describe.skipIf(!hasChromium)(
  `the dashboard's first render in chromium${hasChromium ? '' : ` (${NO_CHROMIUM})`}`,
  () => {
    let chrome: BrowserHandle;
    let dir: string;
    const servers: RunningDashboard[] = [];

    beforeAll(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-lazy-'));
      chrome = await launchChromium();
    });
    afterAll(async () => {
      await Promise.all(servers.map((s) => s.close()));
      await chrome?.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('fetches only the charts on screen, and a chart off screen once it is scrolled into view', async () => {
      const run = path.join(dir, 'forty');
      fs.mkdirSync(run);
      let text = '';
      for (let i = 0; i < 40; i++)
        for (let step = 0; step < 30; step++) text += scalarLine(step, name(i), i + step);
      fs.writeFileSync(path.join(run, 'metrics.ndjson'), text);
      const server = await startDashboard({ inputs: [run], port: 0 });
      servers.push(server);
      const page = await chrome.browser.newPage();
      const fetched: string[] = [];
      page.on('request', (request) => {
        const url = new URL(request.url());
        if (url.pathname === '/api/chart') fetched.push(url.searchParams.get('metric') ?? '');
      });
      await page.goto(server.url);
      await page.waitForSelector('body[data-ready="true"]');
      // The throwaway chart drawn while the page waited for the index (warm-up.ts) is gone.
      expect(
        await page.$$eval('.dash-warm-up, .dash-chart[data-metric="warm-up"]', (els) => els.length),
      ).toBe(0);
      const cards = await page.$$eval('.dash-chart', (els) =>
        els.map((e) => ({
          metric: (e as unknown as Card).dataset.metric,
          title: (e as unknown as Card).textContent,
          points: Number((e as unknown as Card).dataset.points),
        })),
      );
      expect(cards).toHaveLength(40);
      const drawn = cards.filter((c) => c.points > 0).map((c) => c.metric);
      // A 900 px window shows a few rows of charts: those are drawn, and only those were asked for.
      expect(drawn.length).toBeGreaterThan(0);
      expect(drawn.length).toBeLessThan(12);
      expect([...new Set(fetched)].sort()).toEqual(drawn.sort());
      expect(drawn).toContain(name(0));
      const last = cards.at(-1);
      expect(last?.metric).toBe(name(39));
      expect(last?.points).toBe(0);
      expect(last?.title).toContain(name(39));
      await page.$eval(`.dash-chart[data-metric="${name(39)}"]`, (e) =>
        (e as unknown as Card).scrollIntoView(),
      );
      await page.waitForSelector(`.dash-chart[data-metric="${name(39)}"][data-points="30"]`, {
        timeout: 5_000,
      });
      expect(fetched).toContain(name(39));
      await page.close();
    });

    it('lists the server’s first page of charts, and finds one past it through the filter box', async () => {
      const run = path.join(dir, 'many');
      fs.mkdirSync(run);
      const count = MAX_INDEX_CHARTS + 200;
      let text = '';
      for (let i = 0; i < count; i++) text += scalarLine(0, name(i), i);
      fs.writeFileSync(path.join(run, 'metrics.ndjson'), text);
      const server = await startDashboard({ inputs: [run], port: 0 });
      servers.push(server);
      const page = await chrome.browser.newPage();
      await page.goto(server.url);
      await page.waitForSelector('body[data-ready="true"]');
      expect(await page.$$eval('.dash-chart', (els) => els.length)).toBe(MAX_INDEX_CHARTS);
      expect(await page.$eval('.dash-more', (e) => (e as unknown as Card).textContent)).toContain(
        `1,000 of ${count.toLocaleString('en')} charts listed`,
      );
      const wanted = name(count - 1);
      expect(await page.$(`.dash-chart[data-metric="${wanted}"]`)).toBeNull();
      await page.fill('#dash-filter', `${wanted}$`);
      await page.waitForSelector(`.dash-chart[data-metric="${wanted}"][data-points="1"]`, { timeout: 5_000 });
      expect(await page.$eval('.dash-more', (e) => (e as unknown as { hidden: boolean }).hidden)).toBe(true);
      await page.close();
    });
  },
);
