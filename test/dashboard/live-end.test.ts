/**
 * The end of a live run on an open page (`demo --dashboard`, `run --dashboard`), in Debian's
 * chromium: the last rows before the writer exits reach the page, the page says the run finished
 * with its exit code, and a server that goes away without saying so is shown as such.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDashboard } from '../../src/dashboard/server.js';
import { hasChromium, launchChromium, NO_CHROMIUM, type BrowserHandle } from '../helpers/chromium.js';
import { scalarLine, writeRun } from '../helpers/dashboard-runs.js';

interface Html {
  dataset: Record<string, string | undefined>;
  textContent: string | null;
}

const ROOT = path.resolve(import.meta.dirname, '../..');
const CLI = path.join(ROOT, 'dist/src/cli/codex-telemetry.js');
/** CODEX_LONG_TESTS=1 runs the issue's 50 demos; CI runs 2. */
const TRIES = process.env.CODEX_LONG_TESTS === '1' ? 50 : 2;

if (hasChromium && !fs.existsSync(path.join(ROOT, 'dist/src/dashboard/assets/dashboard.js'))) {
  throw new Error('the dashboard bundle is missing: run "npm run build" before these tests');
}

/** Starts a command with `--dashboard`; resolves with the page URL it prints, and its exit. */
function startWithDashboard(args: string[], env: NodeJS.ProcessEnv = process.env) {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let output = '';
  child.stdout.on('data', (data: Buffer) => (output += String(data)));
  child.stderr.on('data', (data: Buffer) => (output += String(data)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = new Promise<string>((resolve, reject) => {
    const look = (): void => {
      const found = /dashboard: (http\S+)/.exec(output)?.[1];
      if (found !== undefined) resolve(found);
    };
    child.stdout.on('data', look);
    child.stderr.on('data', look);
    exited.then((code) => reject(new Error(`exited (${code}) before serving: ${output}`)), reject);
  });
  return { child, url, exited, output: () => output };
}

/** Rows each chart holds on the page: metric → rows. */
/** Rows each chart the page has loaded holds (a chart never on screen is fetched when it is). */
async function pageRows(page: Page): Promise<Record<string, number>> {
  const rows = await page.$$eval('.dash-chart[data-rows]', (els) =>
    els.map((e) => [(e as unknown as Html).dataset.metric, Number((e as unknown as Html).dataset.rows)]),
  );
  return Object.fromEntries(rows) as Record<string, number>;
}

/** Rows each chart holds when the finished run's files are read from scratch. */
async function fileRows(inputs: string[]): Promise<Record<string, number>> {
  const server = await startDashboard({ inputs, port: 0, source: 'ndjson' });
  try {
    const index = (await (await fetch(new URL('api/index', server.url))).json()) as {
      charts: { metric: string }[];
    };
    const rows: Record<string, number> = {};
    for (const { metric } of index.charts) {
      const chart = (await (
        await fetch(new URL(`api/chart?metric=${encodeURIComponent(metric)}`, server.url))
      ).json()) as { series: { points: number }[] };
      rows[metric] = chart.series.reduce((n, s) => n + s.points, 0);
    }
    return rows;
  } finally {
    await server.close();
  }
}

const statusText = (page: Page): Promise<string> =>
  page.$eval('.dash-status', (s) => (s as unknown as Html).textContent ?? '');

describe.skipIf(!hasChromium)(`the end of a live run${hasChromium ? '' : ` (${NO_CHROMIUM})`}`, () => {
  let chrome: BrowserHandle;
  let dir: string;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-live-end-'));
    chrome = await launchChromium();
  });

  afterAll(async () => {
    await chrome?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it(
    `a live demo loses its end no more: the last row reaches an open page in ${TRIES}/${TRIES} tries, which then says the run finished`,
    async () => {
      let reached = 0;
      const misses: string[] = [];
      for (let attempt = 0; attempt < TRIES; attempt++) {
        const out = path.join(dir, `demo-${attempt}`);
        const demo = startWithDashboard([
          'demo',
          '--dashboard',
          '--out',
          out,
          '--prometheus-port',
          '0',
          '--steps',
          '300',
          '--step-delay-ms',
          '10',
          '--eval-every',
          '50',
          '--system-metrics-interval',
          '0.2',
          '--no-wandb',
          '--no-tensorboard',
        ]);
        const page = await chrome.browser.newPage();
        try {
          await page.goto(await demo.url);
          await page.waitForSelector('body[data-ready="true"]', { timeout: 15_000 });
          expect(await demo.exited, demo.output()).toBe(0);
          await page.waitForSelector('body[data-connection="finished"]', { timeout: 10_000 });
          expect(await statusText(page)).toBe('run finished (exit code 0)');
          const onPage = await pageRows(page);
          const inFiles = await fileRows([out]);
          // 300 train rows and 6 evals (every 50 steps) on the loss chart, as the issue counted.
          expect(inFiles.loss).toBe(306);
          const loadedInFiles = Object.fromEntries(Object.keys(onPage).map((m) => [m, inFiles[m]]));
          if (onPage.loss !== undefined && JSON.stringify(onPage) === JSON.stringify(loadedInFiles))
            reached++;
          else
            misses.push(`try ${attempt}: page ${JSON.stringify(onPage)}, files ${JSON.stringify(inFiles)}`);
        } finally {
          demo.child.kill('SIGKILL');
          await page.close();
        }
      }
      expect(misses).toEqual([]);
      expect(reached).toBe(TRIES);
    },
    60_000 * TRIES,
  );

  it('a trainer that exits with 3 under `run --dashboard` shows as failed with exit code 3, its unterminated last row included', async () => {
    const out = path.join(dir, 'bridge');
    const go = path.join(dir, 'bridge-go');
    // Writes 50 rows, waits for the page to be open, then its last row with no newline, and exits 3.
    const trainer = `
      const fs = require('node:fs');
      const line = ${scalarLine.toString()};
      let text = '';
      for (let step = 0; step < 50; step++) text += line(step, 'loss', 1 / (step + 1), 'train', 1764000000 + step);
      fs.appendFileSync(process.env.CODEX_METRICS_OUT, text);
      const wait = setInterval(() => {
        if (!fs.existsSync(${JSON.stringify(go)})) return;
        clearInterval(wait);
        fs.appendFileSync(process.env.CODEX_METRICS_OUT, line(50, 'loss', 0.01, 'train', 1764000050).trimEnd());
        process.exit(3);
      }, 20);`;
    const run = startWithDashboard([
      'run',
      '--dashboard',
      '--out',
      out,
      '--prometheus-port',
      '0',
      '--system-metrics-interval',
      '0',
      '--no-wandb',
      '--no-tensorboard',
      '--',
      process.execPath,
      '-e',
      trainer,
    ]);
    const page = await chrome.browser.newPage();
    try {
      await page.goto(await run.url);
      await page.waitForSelector('.dash-chart[data-metric="loss"][data-rows="50"]', { timeout: 15_000 });
      fs.writeFileSync(go, '');
      expect(await run.exited, run.output()).toBe(3);
      await page.waitForSelector('body[data-connection="finished"]', { timeout: 10_000 });
      expect(await statusText(page)).toBe('run failed (exit code 3)');
      expect((await pageRows(page)).loss).toBe(51);
    } finally {
      run.child.kill('SIGKILL');
      await page.close();
    }
  }, 60_000);

  it("a W&B run's exit record shows in the legend: failed with exit code 4, and a run that exited 0 as finished", async () => {
    const runs = path.join(dir, 'wandb-runs');
    for (const code of [4, 0]) {
      const bridge = spawnSync(
        process.execPath,
        [
          CLI,
          'run',
          '--out',
          path.join(runs, `exit-${code}`),
          '--no-prometheus',
          '--no-tensorboard',
          '--system-metrics-interval',
          '0',
          '--',
          process.execPath,
          '-e',
          `require('node:fs').appendFileSync(process.env.CODEX_METRICS_OUT, ${JSON.stringify(scalarLine(0, 'loss', 1))}); process.exit(${code});`,
        ],
        { encoding: 'utf8' },
      );
      expect(bridge.status, bridge.stderr).toBe(code);
    }
    const server = await startDashboard({ inputs: [runs], port: 0, source: 'wandb' });
    const page = await chrome.browser.newPage();
    try {
      await page.goto(server.url);
      await page.waitForSelector('body[data-ready="true"]', { timeout: 15_000 });
      const ends = await page.$$eval('.dash-run-end', (els) =>
        els.map((e) => [(e as unknown as Html).dataset.exitCode, (e as unknown as Html).textContent]),
      );
      expect(ends.sort()).toEqual([
        ['0', 'finished (exit code 0)'],
        ['4', 'failed (exit code 4)'],
      ]);
    } finally {
      await page.close();
      await server.close();
    }
  }, 60_000);

  it('a server that goes away without a finished event is shown as gone, not as a finished run', async () => {
    const server = await startDashboard({ inputs: [writeRun(path.join(dir, 'gone'), 40)], port: 0 });
    const page = await chrome.browser.newPage();
    try {
      await page.goto(server.url);
      await page.waitForSelector('body[data-connection="live"]', { timeout: 15_000 });
      await server.close();
      await page.waitForSelector('body[data-connection="server-gone"]', { timeout: 10_000 });
      const text = await statusText(page);
      expect(text).toContain('server went away');
      expect(text).not.toContain('finished');
      expect((await pageRows(page)).loss).toBe(42);
    } finally {
      await page.close();
    }
  }, 30_000);
});
