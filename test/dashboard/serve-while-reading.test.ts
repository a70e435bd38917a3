/**
 * The dashboard listens before it reads its runs: the page and its assets are served at once, so a
 * browser loads them while the runs are read, and the API answers once the read is done, whole.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { dashboardHandler } from '../../src/dashboard/http-handler.js';
import { LiveRuns } from '../../src/dashboard/live-runs.js';
import { startDashboard } from '../../src/dashboard/server.js';
import { scalarLine, writeRun } from '../helpers/dashboard-runs.js';
import { writeStream } from '../run-index/make-stream.js';

const CLI = path.resolve(import.meta.dirname, '../../dist/src/cli/codex-telemetry.js');

interface IndexAnswer {
  charts: { metric: string }[];
}

const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function runDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-dash-early-'));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  return writeRun(path.join(dir, 'run'), 30);
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

describe('serving while the runs are read', () => {
  it('serves the page at once and holds API answers until the read is done, then answers them whole', async () => {
    const live = new LiveRuns({ inputs: [runDir()] });
    cleanups.push(() => live.stop());
    let loaded = false;
    let markLoaded = (): void => undefined;
    const whenLoaded = new Promise<void>((resolve) => (markLoaded = resolve));
    const handler = dashboardHandler(live, {
      roots: [],
      host: '127.0.0.1',
      cwd: process.cwd(),
      loaded: () => (loaded ? undefined : whenLoaded),
    });
    const server = createServer((request, response) => {
      if (!handler(request, response)) response.writeHead(404).end();
    });
    const url = await listen(server);

    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<main id="dashboard">');
    let answered = false;
    const index = fetch(`${url}api/index`).then(async (response) => {
      answered = true;
      return (await response.json()) as IndexAnswer;
    });
    // Nothing has been read: an answer now would list no charts.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(answered).toBe(false);

    await live.start();
    loaded = true;
    markLoaded();
    expect((await index).charts.map((c) => c.metric)).toEqual(expect.arrayContaining(['loss', 'lr']));
    // Once read, answers no longer wait.
    const again = (await (await fetch(`${url}api/index`)).json()) as IndexAnswer;
    expect(again.charts.length).toBe((await index).charts.length);
  });

  it('tells the URL before it reads the runs: a line written then is in the first API answer', async () => {
    const dir = runDir();
    let early: Promise<IndexAnswer> | undefined;
    let page: Promise<string> | undefined;
    const dashboard = await startDashboard({
      inputs: [dir],
      port: 0,
      onListening: (urls) => {
        // Told after the read, this row would wait for the next poll, after the answer below.
        fs.appendFileSync(path.join(dir, '.codex', 'metrics.ndjson'), scalarLine(30, 'written_at_url', 1));
        // Asked before the modules that read runs have loaded: the page at once, the API after the read.
        page = fetch(urls[0] as string).then((r) => r.text());
        early = fetch(`${urls[0] as string}api/index`).then((r) => r.json() as Promise<IndexAnswer>);
      },
    });
    cleanups.push(() => dashboard.close());
    expect(early).toBeDefined();
    const metrics = (await (early as Promise<IndexAnswer>)).charts.map((c) => c.metric);
    expect(metrics).toEqual(expect.arrayContaining(['loss', 'lr', 'written_at_url']));
    expect(await page).toContain('<main id="dashboard">');
  });

  it('ends with status 0 on a Ctrl-C once the URL is out, while the runs are still being read', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-dash-early-'));
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    // About 25 MB: read by worker threads after the URL is printed, for longer than a signal takes.
    writeStream(path.join(dir, 'metrics.ndjson'), 0, 160_000);
    const child = spawn(process.execPath, [CLI, 'dashboard', dir, '--port', '0'], { stdio: 'pipe' });
    let out = '';
    const closed = new Promise<number | null>((resolve) => child.once('close', resolve));
    await new Promise<void>((resolve, reject) => {
      const onData = (data: Buffer): void => {
        out += String(data);
        if (/dashboard: http/.test(out)) resolve();
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.once('exit', () => reject(new Error(`exited before its URL: ${out}`)));
    });
    child.kill('SIGINT');
    // Without a handler past the URL, the signal would end it with no status (killed by SIGINT).
    expect(await closed).toBe(0);
  });
});
