/**
 * Drag-zoom of the charts of a stream opened as a catalog (src/dashboard/catalog/): a narrow
 * window answers every row of it exactly as logged (non-finite values as marks), read by the
 * offsets of the level-0 buckets the catalog knows, from the index and from the rows after it,
 * without loading the index; a wide window answers those buckets; the read is bounded as any
 * zoom's; a series that got rows since the open draws the buckets held.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CATALOG_MIN_SERIES } from '../../src/dashboard/catalog/open-catalog.js';
import type { ChartModel, SeriesModel } from '../../src/dashboard/chart-model.js';
import { dashboardHandler } from '../../src/dashboard/http-handler.js';
import { LiveRuns } from '../../src/dashboard/live-runs.js';
import { ZoomReader } from '../../src/dashboard/zoom/zoom-reader.js';
import { loadStreamIndex } from '../../src/run-index/stream-index.js';
import { fullScan, type ScannedRow } from '../run-index/full-scan.js';
import { expectExact } from '../helpers/zoom-exact.js';

/** One-row names: as many as open a stream as a catalog at the default bound. */
const NAMES = CATALOG_MIN_SERIES;
/** `loss` rows after the index (steps NAMES on). */
const TAIL = 300;
/** `burst`: this many rows, one a step from BURST_AT, all in one level-0 bucket. */
const BURST = 30;
const BURST_AT = 5000;

let dir: string;
let file: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'catalog-zoom-'));
  file = path.join(dir, 'metrics.ndjson');
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function row(step: number, name: string, value: number | string, phase = 'train'): string {
  return `{"v":1,"ts":${1.76e9 + step},"run_id":"r1","step":${step},"name":"${name}","value":${value},"tags":{"phase":"${phase}"}}\n`;
}

/** `loss` at a step: NaN, +Infinity and -Infinity among finite values. */
function loss(step: number): number | string {
  if (step % 37 === 0) return '"NaN"';
  if (step % 53 === 0) return '"Infinity"';
  if (step % 71 === 0) return '"-Infinity"';
  return Math.sin(step);
}

/** NAMES one-row names, `loss` every step, `eval/loss` and system rows now and then, a burst. */
function writeRun(): void {
  let out = '';
  for (let i = 0; i < NAMES; i++) {
    out += row(i, `m/name_${String(i).padStart(5, '0')}`, i % 97) + row(i, 'loss', loss(i));
    if (i % 100 === 0) out += row(i, 'eval/loss', -i, 'eval');
    if (i >= BURST_AT && i < BURST_AT + BURST) out += row(i, 'burst', i % 7);
    if (i % 50 === 0)
      out += `{"v":1,"ts":${1.76e9 + i},"run_id":"r1","step":${i},"name":"system","values":{"cpu_percent":${i % 100}},"tags":{"phase":"system"}}\n`;
  }
  fs.writeFileSync(file, out);
}

/** Rows after the index: more `loss`, and a second row of one name. */
function appendAfterIndex(): void {
  let out = row(NAMES, 'm/name_00005', 55);
  for (let i = NAMES; i < NAMES + TAIL; i++) out += row(i, 'loss', loss(i));
  fs.appendFileSync(file, out);
}

/** A series' rows with steps in [from, to], read from the whole stream. */
async function scanned(key: string, from: number, to: number): Promise<ScannedRow[]> {
  return ((await fullScan(file)).get(key) ?? []).filter((r) => r.step >= from && r.step <= to);
}

interface Served {
  live: LiveRuns;
  get(query: string): Promise<{ status: number; body: string }>;
  close(): Promise<void>;
}

async function serve(reader?: ZoomReader): Promise<Served> {
  const live = new LiveRuns({ inputs: [dir], backlog: { jobs: 1, indexMinBytes: 0 }, discoverMs: 0 });
  await live.start();
  const handler = dashboardHandler(live, { roots: [dir], host: '127.0.0.1', cwd: dir, zoomReader: reader });
  const server = http.createServer((req, res) => {
    if (!handler(req, res)) res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    live,
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

/** The zoomed series of `metric` (its `phase` line) over [from, to]. */
async function zoom(
  served: Served,
  metric: string,
  from: number,
  to: number,
  width = 600,
  phase = 'train',
): Promise<SeriesModel> {
  const query = `/api/zoom?metric=${encodeURIComponent(metric)}&width=${width}&from=${from}&to=${to}`;
  const answer = await served.get(query);
  expect(answer.status, answer.body).toBe(200);
  const chart = JSON.parse(answer.body) as ChartModel;
  const series = chart.series.find((s) => s.phase === phase);
  expect(series, `${metric} ${phase}`).toBeDefined();
  return series as SeriesModel;
}

async function counters(
  served: Served,
): Promise<{ catalog: { series: number }; zoom: Record<string, number> }> {
  return JSON.parse((await served.get('/api/index')).body) as never;
}

describe('drag-zoom of a stream opened as a catalog', () => {
  it.each([
    ['every bucket finished in the index file', 0],
    ["a reader's index, its last 8 MiB of buckets left open (read again at the open)", undefined],
  ])(
    'answers every row of a narrow window exactly as logged, from the index and the rows after it, never loading the index (%s)',
    async (_, rescanBytes) => {
      writeRun();
      await loadStreamIndex(file, { rescanBytes });
      appendAfterIndex();
      const served = await serve();
      try {
        expect((await counters(served)).catalog.series).toBeGreaterThanOrEqual(NAMES);
        // Inside the index, across its end into the rows after it, and after it alone.
        for (const [from, to] of [
          [100, 1099],
          [NAMES - 500, NAMES + 150],
          [NAMES + 10, NAMES + TAIL],
        ] as const) {
          const rows = await scanned('r1|train|loss', from, to);
          expect(rows.filter((r) => !Number.isFinite(r.value)).length).toBeGreaterThan(5);
          expectExact(await zoom(served, 'loss', from, to), rows);
        }
        // The eval line of that chart (logged as `eval/loss`), a one-row name, a name with a row in
        // the index and one after it, and a system series (held, placed by the catalog too).
        expectExact(
          await zoom(served, 'loss', 2000, 5000, 600, 'eval'),
          await scanned('r1|eval|eval/loss', 2000, 5000),
        );
        expectExact(
          await zoom(served, 'm/name_05000', 4990, 5010),
          await scanned('r1|train|m/name_05000', 0, NAMES),
        );
        expectExact(
          await zoom(served, 'm/name_00005', 0, NAMES),
          await scanned('r1|train|m/name_00005', 0, NAMES),
        );
        expectExact(
          await zoom(served, 'system/cpu_percent', 1000, 3000, 600, 'system'),
          await scanned('r1|system|cpu_percent', 1000, 3000),
        );
        expect((await counters(served)).zoom).toMatchObject({ indexLoads: 0, refused: 0 });
      } finally {
        await served.close();
      }
    },
  );

  it('answers a wide window with the level-0 buckets of the index and of the rows after it', async () => {
    writeRun();
    await loadStreamIndex(file, { rescanBytes: 0 });
    appendAfterIndex();
    const served = await serve();
    try {
      const all = await scanned('r1|train|loss', 0, NAMES + TAIL);
      // More rows than max(2 × width, 4,096): buckets, each row in one of them.
      const wide = await zoom(served, 'loss', 0, NAMES + TAIL, 600);
      expect(wide.zoom).toEqual({ mode: 'envelope', rows: all.length, level: 0 });
      expect(wide.step.length).toBeLessThanOrEqual(2 * 600);
      expect(wide.nan + wide.posInf + wide.negInf).toBe(all.filter((r) => !Number.isFinite(r.value)).length);
    } finally {
      await served.close();
    }
  });

  it('answers a window reading the per-request bound (as any zoom) and refuses one byte past it', async () => {
    writeRun();
    await loadStreamIndex(file, { rescanBytes: 0 });
    const rows = await scanned('r1|train|burst', 0, NAMES);
    expect(rows).toHaveLength(BURST);
    // The burst's one bucket reads from its first row's line to its last row's line start.
    const bytes = (rows.at(-1) as ScannedRow).offset - (rows[0] as ScannedRow).offset;
    const at = await serve(new ZoomReader({ maxReadBytes: bytes }));
    try {
      expectExact(await zoom(at, 'burst', BURST_AT, BURST_AT + BURST), rows);
    } finally {
      await at.close();
    }
    const under = await serve(new ZoomReader({ maxReadBytes: bytes - 1 }));
    try {
      const refused = await under.get(
        `/api/zoom?metric=burst&width=600&from=${BURST_AT}&to=${BURST_AT + BURST}`,
      );
      expect(refused.status).toBe(413);
      expect(refused.body).toMatch(
        /^zooming burst to steps 5000–5030 would read .*; zoom into a narrower window/,
      );
      expect((await counters(under)).zoom.refused).toBe(1);
    } finally {
      await under.close();
    }
  });

  it('draws the buckets held for a series that got rows since the open (the catalog has not placed them)', async () => {
    writeRun();
    await loadStreamIndex(file, { rescanBytes: 0 });
    const served = await serve();
    try {
      expectExact(await zoom(served, 'loss', 100, 200), await scanned('r1|train|loss', 100, 200));
      fs.appendFileSync(file, row(150, 'loss', 7));
      await served.live.tick();
      const held = await zoom(served, 'loss', 100, 200);
      expect(held.zoom).toEqual({ mode: 'memory', rows: NAMES + 1 });
      // Others are still read exactly.
      expectExact(await zoom(served, 'burst', 0, NAMES), await scanned('r1|train|burst', 0, NAMES));
    } finally {
      await served.close();
    }
  });
});
