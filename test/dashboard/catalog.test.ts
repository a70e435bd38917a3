/**
 * A stream with very many names opens as a catalog: its names are listed and searched from its
 * run index, a chart is made only when asked for and gives what the index path gives (every
 * series held), at most MAX_CATALOG_CHARTS charts are made at once, and rows that arrive later
 * reach the charts they belong to.
 */
import fs from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_CATALOG_CHARTS } from '../../src/dashboard/catalog/catalog-charts.js';
import { chartData } from '../../src/dashboard/chart-data.js';
import { dashboardHandler } from '../../src/dashboard/http-handler.js';
import { LiveRuns } from '../../src/dashboard/live-runs.js';
import { zoomData } from '../../src/dashboard/zoom/zoom-data.js';
import { ZoomReader } from '../../src/dashboard/zoom/zoom-reader.js';
import { besidePath } from '../../src/run-index/index-path.js';
import { loadStreamIndex } from '../../src/run-index/stream-index.js';

const NAMES = 3000;
/** Below NAMES: this test's stream opens as a catalog. */
const MIN_SERIES = 1000;

let dir: string;
let file: string;
const opened: LiveRuns[] = [];
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'catalog-'));
  file = path.join(dir, 'metrics.ndjson');
});
afterEach(() => {
  for (const live of opened.splice(0)) live.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

function row(run: string, step: number, name: string, value: number | string, phase = 'train'): string {
  return `{"v":1,"ts":${1.76e9 + step},"run_id":"${run}","step":${step},"name":"${name}","value":${value},"tags":{"phase":"${phase}"}}\n`;
}

/**
 * One row for each of NAMES names (a NaN and an Infinity among them), a long `loss`, train and
 * eval rows of one chart, a second run, and system rows: the index is built, then more rows come.
 */
function writeRun(): void {
  let out = '';
  for (let i = 0; i < NAMES; i++) {
    const value = i === 7 ? '"NaN"' : i === 8 ? '"Infinity"' : i % 97;
    out += row('r1', i, `m/name_${String(i).padStart(5, '0')}`, value);
    if (i % 2 === 0) out += row('r1', i, 'loss', Math.sin(i));
    if (i % 100 === 0) out += row('r1', i, 'shared', i, 'train') + row('r1', i, 'eval/shared', -i, 'eval');
    if (i % 300 === 0) out += row('r2', i, 'm/name_00001', 1000 + i);
    if (i % 50 === 0)
      out += `{"v":1,"ts":${1.76e9 + i},"run_id":"r1","step":${i},"name":"system","values":{"cpu_percent":${i % 100}},"tags":{"phase":"system"}}\n`;
  }
  fs.writeFileSync(file, out);
}

function appendAfterIndex(): void {
  let out = '';
  for (let i = NAMES; i < NAMES + 200; i++) out += row('r1', i, 'loss', Math.cos(i));
  out += row('r1', NAMES, 'm/name_00005', 55) + row('r1', NAMES, 'late/name', 3);
  fs.appendFileSync(file, out);
}

async function open(catalogMinSeries: number, indexMinBytes = 0): Promise<LiveRuns> {
  const live = new LiveRuns({
    inputs: [file],
    backlog: { indexMinBytes, catalogMinSeries, jobs: 1 },
    discoverMs: 0,
  });
  opened.push(live);
  await live.start();
  return live;
}

const CHARTS = [
  'm/name_00000',
  'm/name_00001',
  'm/name_00007',
  'm/name_00008',
  'm/name_00005',
  `m/name_${String(NAMES - 1).padStart(5, '0')}`,
  'loss',
  'shared',
  'late/name',
  'system/cpu_percent',
];

describe('a stream of very many names opened as a catalog', () => {
  it('lists, searches and charts what every series held gives, including rows after the index', async () => {
    writeRun();
    await loadStreamIndex(file);
    appendAfterIndex();
    const catalog = await open(MIN_SERIES);
    expect(catalog.store.charts.size).toBeLessThan(10);
    expect(catalog.store.index().catalog.series).toBeGreaterThan(NAMES);
    // The same stream opened with every series held, from the same index.
    const held = await open(Infinity);
    expect(held.store.charts.size).toBeGreaterThan(NAMES);
    // The bucket budget's counters differ by design: a catalog's charts are not the store's series.
    const page = (live: LiveRuns, query = {}): unknown => {
      const { catalog: _, version: __, buckets: ___, ...rest } = live.store.index(query);
      return rest;
    };
    expect(page(catalog)).toEqual(page(held));
    expect(page(catalog, { offset: 2990, limit: 20 })).toEqual(page(held, { offset: 2990, limit: 20 }));
    const filter = { filter: /NAME_0212\d|^late/i };
    expect(page(catalog, filter)).toEqual(page(held, filter));
    expect((catalog.store.index(filter) as { total: number }).total).toBe(11);
    for (const metric of CHARTS)
      expect(chartData(catalog.store, metric, { width: 600 }), metric).toEqual(
        chartData(held.store, metric, { width: 600 }),
      );
    // One row each: the value as logged.
    const one = chartData(catalog.store, 'm/name_00042', { width: 600 });
    expect(one?.series.map((s) => [s.run, s.step, s.y, s.points])).toEqual([
      [dir.split(path.sep).pop(), [42], [42 % 97], 1],
    ]);
    expect(chartData(catalog.store, 'm/name_00005', { width: 600 })?.series[0]?.points).toBe(2);
  });

  it('holds every chart as before when a stream has fewer names than the catalog bound', async () => {
    writeRun();
    await loadStreamIndex(file);
    const live = await open(NAMES * 10);
    expect(live.store.index().catalog.series).toBe(0);
    expect(live.store.charts.size).toBeGreaterThan(NAMES);
  });

  it(`makes at most MAX_CATALOG_CHARTS (${MAX_CATALOG_CHARTS}) charts at once, dropping the least recently asked for`, async () => {
    writeRun();
    await loadStreamIndex(file, { rescanBytes: 0 });
    const live = await open(MIN_SERIES);
    const name = (i: number): string => `m/name_${String(i).padStart(5, '0')}`;
    const first = chartData(live.store, name(0), { width: 600 });
    for (let i = 1; i < MAX_CATALOG_CHARTS; i++) chartData(live.store, name(i), { width: 600 });
    expect(live.store.index().catalog).toEqual({
      series: expect.any(Number),
      made: MAX_CATALOG_CHARTS,
      bound: MAX_CATALOG_CHARTS,
      loads: MAX_CATALOG_CHARTS,
      evicted: 0,
      indexedFirst: 0,
      indexedFirstPeakRssMb: 0,
    });
    // Asked again, the first is the most recent: the next new chart drops the second.
    chartData(live.store, name(0), { width: 600 });
    chartData(live.store, name(MAX_CATALOG_CHARTS), { width: 600 });
    expect(live.store.index().catalog).toMatchObject({
      made: MAX_CATALOG_CHARTS,
      loads: MAX_CATALOG_CHARTS + 1,
      evicted: 1,
    });
    chartData(live.store, name(1), { width: 600 });
    expect(live.store.index().catalog).toMatchObject({
      made: MAX_CATALOG_CHARTS,
      loads: MAX_CATALOG_CHARTS + 2,
      evicted: 2,
    });
    // A chart made again from the index is the chart it was.
    for (let i = 2; i <= MAX_CATALOG_CHARTS + 1; i++) chartData(live.store, name(i), { width: 600 });
    expect(chartData(live.store, name(0), { width: 600 })).toEqual(first);
  });

  it('keeps a chart that gets rows after the start current, listed once', async () => {
    writeRun();
    await loadStreamIndex(file);
    const live = await open(MIN_SERIES);
    const total = live.store.index().total;
    fs.appendFileSync(file, row('r1', NAMES + 5, 'm/name_00010', 77) + row('r1', NAMES + 5, 'brand/new', 1));
    await live.tick();
    const chart = chartData(live.store, 'm/name_00010', { width: 600 });
    expect(chart?.series.map((s) => [s.step, s.y, s.points])).toEqual([[[10, NAMES + 5], [10, 77], 2]]);
    expect(live.store.charts.has('m/name_00010')).toBe(true);
    expect(live.store.index().total).toBe((total ?? 0) + 1);
    expect(live.store.index({ filter: /^m\/name_00010$/ }).total).toBe(1);
  });

  it('zooms its charts through the catalog, never loading its whole index; a series first seen since the open on the buckets held', async () => {
    writeRun();
    await loadStreamIndex(file);
    appendAfterIndex();
    const live = await open(MIN_SERIES);
    fs.appendFileSync(file, row('r1', NAMES + 9, 'brand/new', 1));
    await live.tick();
    const reader = new ZoomReader({ cache: live.zoomIndex });
    // A catalog chart and a system series read by the offsets the catalog keeps (test/dashboard/
    // catalog-zoom.test.ts checks the rows); a series the follower found has none.
    for (const [metric, mode] of [
      ['loss', 'exact'],
      ['system/cpu_percent', 'exact'],
      ['brand/new', 'memory'],
    ] as const) {
      const zoomed = await zoomData(live.store, live.store.origins, reader, metric, {
        from: 0,
        to: NAMES,
        width: 600,
      });
      expect(
        zoomed?.series.map((s) => s.zoom?.mode),
        metric,
      ).toEqual([mode]);
    }
    expect(reader.counters().indexLoads).toBe(0);
  });

  it('answers 409, saying to restart, for a chart whose index was rewritten or cut since the open', async () => {
    writeRun();
    // Every bucket finished (none left open for a reader to rebuild): charts read the index file.
    await loadStreamIndex(file, { rescanBytes: 0 });
    const live = await open(MIN_SERIES);
    const server = createServer((request, response) => {
      dashboardHandler(live, { roots: [dir], host: '127.0.0.1', cwd: dir })(request, response);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const get = async (path: string): Promise<[number, string]> => {
      const response = await fetch(`${base}${path}`);
      return [response.status, await response.text()];
    };
    try {
      expect((await get('/api/chart?metric=m%2Fname_02000'))[0]).toBe(200);
      const index = besidePath(file);
      // Rewritten: same size, other bytes where the records were.
      fs.writeFileSync(index, Buffer.alloc(fs.statSync(index).size));
      const [status, body] = await get('/api/chart?metric=m%2Fname_02001');
      expect(status).toBe(409);
      expect(body).toMatch(/was rewritten since the dashboard opened .*; restart the dashboard/);
      const [zoomStatus] = await get('/api/zoom?metric=m%2Fname_02002&from=0&to=10');
      expect(zoomStatus).toBe(409);
      // Cut: the records are past its end.
      fs.truncateSync(index, 100);
      const [cutStatus, cutBody] = await get('/api/chart?metric=m%2Fname_02003');
      expect(cutStatus).toBe(409);
      expect(cutBody).toMatch(/is shorter than when it was opened; restart the dashboard/);
      // A chart made before is still drawn.
      expect((await get('/api/chart?metric=m%2Fname_02000'))[0]).toBe(200);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('merges the catalogs of two ranks into one list, and draws a chart of both ranks as holding them would', async () => {
    writeRun();
    const rank1 = path.join(dir, 'metrics.rank1.ndjson');
    let out = '';
    for (let i = 0; i < NAMES; i += 2) out += row('r1', i, `m/name_${String(i).padStart(5, '0')}`, -i);
    out += row('r1', 1, 'only/rank1', 5);
    fs.writeFileSync(rank1, out);
    await loadStreamIndex(file, { rescanBytes: 0 });
    await loadStreamIndex(rank1, { rescanBytes: 0 });
    const both = async (catalogMinSeries: number): Promise<LiveRuns> => {
      const live = new LiveRuns({
        inputs: [dir],
        backlog: { indexMinBytes: 0, catalogMinSeries, jobs: 1 },
        discoverMs: 0,
      });
      opened.push(live);
      await live.start();
      return live;
    };
    const catalog = await both(MIN_SERIES / 2);
    expect(catalog.store.index().catalog.series).toBeGreaterThan(NAMES + NAMES / 2);
    const held = await both(Infinity);
    // The bucket budget's counters differ by design: a catalog's charts are not the store's series.
    const page = (live: LiveRuns, query = {}): unknown => {
      const { catalog: _, version: __, buckets: ___, ...rest } = live.store.index(query);
      return rest;
    };
    expect(page(catalog)).toEqual(page(held));
    expect(page(catalog, { filter: /name_0000\d|rank1/ })).toEqual(
      page(held, { filter: /name_0000\d|rank1/ }),
    );
    for (const metric of ['m/name_00000', 'm/name_00001', 'm/name_00002', 'only/rank1', 'loss'])
      expect(chartData(catalog.store, metric, { width: 600 }), metric).toEqual(
        chartData(held.store, metric, { width: 600 }),
      );
    // Rank 0 logged 2, rank 1 -2: the band's median, its low and high, then each rank.
    expect(
      chartData(catalog.store, 'm/name_00002', { width: 600 })?.series.map((s) => [s.rank, s.y, s.lo, s.hi]),
    ).toEqual([
      [null, [0], [-2], [2]],
      [0, [2], undefined, undefined],
      [1, [-2], undefined, undefined],
    ]);
  });
});
