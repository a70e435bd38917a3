/**
 * Drag-zoom over a stream of several segments (plain, gzip, the active file): a small window
 * answers every row exactly as the stream holds it (non-finite values as marks), a wide one the
 * run index's buckets, whether the dashboard opened the stream from its index or read it whole,
 * and an index torn by a crash still zooms right. A window past the read bound is refused.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ChartModel, SeriesModel } from '../../src/dashboard/chart-model.js';
import { dashboardHandler } from '../../src/dashboard/http-handler.js';
import { LiveRuns } from '../../src/dashboard/live-runs.js';
import { seriesKey, ZoomIndexCache } from '../../src/dashboard/zoom/index-cache.js';
import { ZoomReader } from '../../src/dashboard/zoom/zoom-reader.js';
import { besidePath } from '../../src/run-index/index-path.js';
import { loadStreamIndex } from '../../src/run-index/stream-index.js';
import { fullScan, type ScannedRow } from '../run-index/full-scan.js';
import { expectExact } from '../helpers/zoom-exact.js';
import { streamLines } from '../run-index/make-stream.js';

let dir: string;
let active: string;
let files: string[];
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-zoom-'));
  active = path.join(dir, 'metrics.ndjson');
  files = [path.join(dir, 'metrics.000001.ndjson'), path.join(dir, 'metrics.000002.ndjson.gz'), active];
  // Three files of one stream: a plain segment, a gzip segment, the active file.
  fs.writeFileSync(files[0] as string, streamLines(0, 3000));
  fs.writeFileSync(files[1] as string, gzipSync(streamLines(3000, 6000)));
  fs.writeFileSync(active, streamLines(6000, 8000));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Every `loss` row of the stream (all files, in order) with its step in [from, to]. */
async function lossRows(from: number, to: number): Promise<ScannedRow[]> {
  const out: ScannedRow[] = [];
  for (const file of files)
    for (const row of (await fullScan(file)).get('run-a|train|loss') ?? [])
      if (row.step >= from && row.step <= to) out.push(row);
  return out;
}

async function indexAll(): Promise<void> {
  for (const file of files) await loadStreamIndex(file);
}

interface Served {
  get(query: string): Promise<{ status: number; body: string }>;
  close(): Promise<void>;
}

async function serve(options: { indexed: boolean; reader?: ZoomReader }): Promise<Served> {
  const live = new LiveRuns({
    inputs: [dir],
    backlog: { jobs: 1, indexMinBytes: options.indexed ? 0 : Infinity },
  });
  await live.tick();
  const handler = dashboardHandler(live, {
    roots: [dir],
    host: '127.0.0.1',
    cwd: dir,
    zoomReader: options.reader,
  });
  const server = http.createServer((req, res) => {
    if (!handler(req, res)) res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    async get(query) {
      const response = await fetch(`http://127.0.0.1:${port}${query}`);
      return { status: response.status, body: await response.text() };
    },
    close: async () => {
      live.stop();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function zoomLoss(served: Served, from: number, to: number, width = 560): Promise<SeriesModel> {
  const answer = await served.get(`/api/zoom?metric=loss&width=${width}&from=${from}&to=${to}`);
  expect(answer.status, answer.body).toBe(200);
  const chart = JSON.parse(answer.body) as ChartModel;
  expect(chart.window).toEqual([from, to]);
  return chart.series[0] as SeriesModel;
}

describe('drag-zoom', () => {
  it('answers every row of a window across a plain segment, a gzip segment and the active file, exactly as logged', async () => {
    await indexAll();
    const served = await serve({ indexed: true });
    try {
      // 2,000 steps across all three files: NaN and ±Infinity among them.
      const rows = await lossRows(2500, 6499);
      expect(rows.filter((r) => !Number.isFinite(r.value)).length).toBeGreaterThan(30);
      expectExact(await zoomLoss(served, 2500, 6499, 2000), rows);
      // A window inside the gzip segment alone, and one inside the active file.
      expectExact(await zoomLoss(served, 3100, 3300), await lossRows(3100, 3300));
      expectExact(await zoomLoss(served, 7990, 9000), await lossRows(7990, 9000));
    } finally {
      await served.close();
    }
  });

  it('reads, for a zoom, the runs of the series it draws from each file, once, and a file that changed whole', async () => {
    await indexAll();
    const served = await serve({ indexed: true });
    try {
      const counters = async (): Promise<Record<string, number>> =>
        (JSON.parse((await served.get('/api/index')).body) as { zoom: Record<string, number> }).zoom;
      // The plain files' indexes account for their whole file: the dashboard read only what it
      // draws of them. The gzip segment's is read whole, and handed to the zoom.
      expect(await counters()).toMatchObject({ indexAdopted: 1, indexLoads: 0 });
      expectExact(await zoomLoss(served, 2000, 5999, 2000), await lossRows(2000, 5999));
      expectExact(await zoomLoss(served, 2500, 6499, 2000), await lossRows(2500, 6499));
      expect(await counters()).toMatchObject({ indexAdopted: 1, indexLoads: 2 });
      // A file that changed since the dashboard opened it is loaded again, not zoomed short.
      fs.appendFileSync(active, streamLines(8000, 9000));
      expectExact(await zoomLoss(served, 7500, 8500), await lossRows(7500, 8500));
      expect((await counters()).indexLoads).toBe(3);
    } finally {
      await served.close();
    }
  });

  it('finds the rows of a run restarted inside an index bucket at the edge of a window', async () => {
    for (const file of files) fs.rmSync(file);
    files = [active];
    // Steps 0–99, then the run restarts at 40: the restart's first rows share a bucket with steps 64–99.
    fs.writeFileSync(active, streamLines(0, 100) + streamLines(40, 140, 'run-a', 1));
    await indexAll();
    const served = await serve({ indexed: true });
    try {
      for (const [from, to] of [
        [20, 45],
        [30, 60],
        [0, 41],
      ] as const) {
        const rows = await lossRows(from, to);
        expect(rows.filter((r) => r.step < 64).length).toBeGreaterThan(rows.length / 2);
        expectExact(await zoomLoss(served, from, to), rows);
      }
    } finally {
      await served.close();
    }
  });

  it('reads the rows of a stream the dashboard read whole (no index opened at start) the same way', async () => {
    const served = await serve({ indexed: false });
    try {
      expectExact(await zoomLoss(served, 1000, 2999), await lossRows(1000, 2999));
    } finally {
      await served.close();
    }
  });

  it('draws a wide window from index buckets of about one per pixel column, every extreme kept', async () => {
    await indexAll();
    const served = await serve({ indexed: true });
    try {
      const series = await zoomLoss(served, 500, 7500, 16);
      expect(series.zoom?.mode).toBe('envelope');
      expect(series.zoom?.level).toBeGreaterThan(0);
      // At most two points (min and max) per pixel column.
      expect(series.y.length).toBeLessThanOrEqual(2 * 16);
      const finite = (await lossRows(500, 7500)).filter((r) => Number.isFinite(r.value)).map((r) => r.value);
      expect(Math.max(...series.y)).toBeGreaterThanOrEqual(Math.max(...finite));
      expect(Math.min(...series.y)).toBeLessThanOrEqual(Math.min(...finite));
      expect(series.marks.length).toBeGreaterThan(0);
    } finally {
      await served.close();
    }
  });

  it('zooms right when the index ends in a block torn by a crash', async () => {
    // The active file's index in two blocks; the second then loses its last bytes.
    fs.writeFileSync(active, streamLines(6000, 7000));
    await indexAll();
    fs.appendFileSync(active, streamLines(7000, 8000));
    await loadStreamIndex(active);
    const index = besidePath(active);
    const before = fs.statSync(index).size;
    fs.truncateSync(index, before - 40);
    const served = await serve({ indexed: true });
    try {
      expectExact(await zoomLoss(served, 6900, 7600), await lossRows(6900, 7600));
    } finally {
      await served.close();
    }
  });

  it('refuses a window whose rows would read past the per-request bound, saying what to do', async () => {
    await indexAll();
    // About 110 bytes a line, a loss row and a fraction of an eval and system line per step.
    const served = await serve({ indexed: true, reader: new ZoomReader({ maxReadBytes: 40_000 }) });
    try {
      expectExact(await zoomLoss(served, 100, 299), await lossRows(100, 299));
      const refused = await served.get('/api/zoom?metric=loss&width=2000&from=100&to=1999');
      expect(refused.status).toBe(413);
      expect(refused.body).toMatch(
        /^zooming loss to steps 100–1999 would read [\d.]+ MiB of .*metrics\.ndjson/,
      );
      expect(refused.body).toMatch(/limit 0\.04 MiB a request\); zoom into a narrower window/);
      const index = JSON.parse((await served.get('/api/index')).body) as { zoom: { refused: number } };
      expect(index.zoom.refused).toBe(1);
    } finally {
      await served.close();
    }
  });

  it('refuses a window deep in a gzip segment past the inflate bound', async () => {
    await indexAll();
    const served = await serve({ indexed: true, reader: new ZoomReader({ maxInflateBytes: 100_000 }) });
    try {
      expectExact(await zoomLoss(served, 3000, 3100), await lossRows(3000, 3100));
      const refused = await served.get('/api/zoom?metric=loss&width=560&from=5800&to=5900');
      expect(refused.status).toBe(413);
      expect(refused.body).toMatch(/would inflate [\d.]+ MiB of the gzip segment .*000002\.ndjson\.gz/);
    } finally {
      await served.close();
    }
  });

  it('reads rows appended to the active file since the last zoom', async () => {
    await indexAll();
    const served = await serve({ indexed: true });
    try {
      expectExact(await zoomLoss(served, 7500, 8500), await lossRows(7500, 8500));
      fs.appendFileSync(active, streamLines(8000, 9000));
      expectExact(await zoomLoss(served, 7500, 8500), await lossRows(7500, 8500));
    } finally {
      await served.close();
    }
  });

  it('keeps at most its bound of index buckets, the series asked for last to go', async () => {
    await indexAll();
    const loss = seriesKey('run-a', 'train', 'loss');
    const acc = seriesKey('run-a', 'eval', 'acc');
    const all = new ZoomIndexCache();
    const size = (b: Awaited<ReturnType<ZoomIndexCache['get']>>): number =>
      b === null || b === undefined ? 0 : b.open.byteLength + b.levels.reduce((n, l) => n + l.byteLength, 0);
    const lossBytes = size(await all.get(active, loss));
    // Only the series asked for is read from an index that accounts for its whole file.
    expect(all.heldBytes).toBe(lossBytes);
    const accBytes = size(await all.get(active, acc));
    expect(accBytes).toBeGreaterThan(100);
    expect(all.heldBytes).toBe(lossBytes + accBytes);
    const bound = Math.max(lossBytes, accBytes) + 100;
    const cache = new ZoomIndexCache(bound);
    expect(size(await cache.get(active, loss))).toBe(lossBytes);
    expect(size(await cache.get(active, acc))).toBe(accBytes);
    expect(cache.heldBytes).toBeLessThanOrEqual(bound);
    expect(cache.dropped).toBe(1);
    const loads = cache.loads;
    await cache.get(active, acc);
    expect(cache.loads).toBe(loads);
    await cache.get(active, loss);
    expect(cache.loads).toBe(loads + 1);
    expect(await cache.get(active, seriesKey('run-a', 'train', 'no-such'))).toBeNull();
  });

  it('splits an index handed over by the first read only when a zoom asks, within the same bound', async () => {
    await indexAll();
    const loss = seriesKey('run-a', 'train', 'loss');
    const stamp = (): string => {
      const stat = fs.statSync(active);
      return `${stat.ino}:${stat.size}:${stat.mtimeMs}`;
    };
    const fresh = new ZoomIndexCache();
    const expected = await fresh.get(active, loss);
    const handed = new ZoomIndexCache();
    handed.adopt(active, stamp(), await loadStreamIndex(active, { write: false }));
    const held = handed.heldBytes;
    expect(held).toBeGreaterThan(0);
    // Answered from what was handed over (no load), the same buckets as a load gives.
    expect(await handed.get(active, loss)).toEqual(expected);
    expect(handed.loads).toBe(0);
    // Bigger than the bound: not kept, counted, and a zoom loads the index itself.
    const small = new ZoomIndexCache(held - 1);
    small.adopt(active, stamp(), await loadStreamIndex(active, { write: false }));
    expect(small.heldBytes).toBe(0);
    expect(small.dropped).toBe(1);
    await small.get(active, loss);
    expect(small.loads).toBe(1);
  });

  it('answers 400 to a window without numeric steps', async () => {
    const served = await serve({ indexed: false });
    try {
      expect((await served.get('/api/zoom?metric=loss&from=a&to=3')).status).toBe(400);
      expect((await served.get('/api/zoom?metric=loss&from=9&to=3')).status).toBe(400);
    } finally {
      await served.close();
    }
  });
});
