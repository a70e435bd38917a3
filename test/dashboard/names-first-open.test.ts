/**
 * The first open of a stream of very many names, without its run index (a trainer's own file):
 * the dashboard counts the names in its first NAMES_SAMPLE_BYTES, builds the index first when they
 * reach the catalog bound, and opens the stream as a catalog from it; below the bound, or with the
 * names only after the sample, every series is held as before.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  NAMES_PROBE_BYTES,
  NAMES_SAMPLE_BYTES,
  seriesAtStart,
} from '../../src/dashboard/catalog/names-at-start.js';
import { chartData } from '../../src/dashboard/chart-data.js';
import { LiveRuns } from '../../src/dashboard/live-runs.js';
import { besidePath } from '../../src/run-index/index-path.js';

const NAMES = 3000;
/** Non-system series of `manyNames()`: each name, `loss`, and `shared` in train and eval. */
const SERIES = NAMES + 3;

let dir: string;
let file: string;
const opened: LiveRuns[] = [];
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'names-first-'));
  file = path.join(dir, 'metrics.ndjson');
});
afterEach(() => {
  for (const live of opened.splice(0)) live.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

function row(step: number, name: string, value: number | string, phase = 'train'): string {
  return `{"v":1,"ts":${1.76e9 + step},"run_id":"r1","step":${step},"name":"${name}","value":${value},"tags":{"phase":"${phase}"}}\n`;
}

/** One row for each of NAMES names (a NaN among them), a long `loss`, a chart in two phases, system rows. */
function manyNames(): string {
  let out = '';
  for (let i = 0; i < NAMES; i++) {
    out += row(i, `m/name_${String(i).padStart(5, '0')}`, i === 7 ? '"NaN"' : i % 97);
    if (i % 2 === 0) out += row(i, 'loss', Math.sin(i));
    if (i % 100 === 0) out += row(i, 'shared', i) + row(i, 'eval/shared', -i, 'eval');
    if (i % 50 === 0)
      out += `{"v":1,"ts":${1.76e9 + i},"run_id":"r1","step":${i},"name":"system","values":{"cpu_percent":${i % 100}},"tags":{"phase":"system"}}\n`;
  }
  return out;
}

async function open(catalogMinSeries: number): Promise<LiveRuns> {
  const live = new LiveRuns({
    inputs: [file],
    // No index built in this thread (a small stream's would be): the first open finds none.
    backlog: { indexMinBytes: 0, indexCatchUpBytes: 0, catalogMinSeries, jobs: 1 },
    discoverMs: 0,
  });
  opened.push(live);
  await live.start();
  return live;
}

const CHARTS = ['m/name_00000', 'm/name_00007', 'm/name_02999', 'loss', 'shared', 'system/cpu_percent'];

describe('the first open of a stream of very many names, without its index', () => {
  it('builds the index first and opens the stream as a catalog, drawing what holding every series draws', async () => {
    fs.writeFileSync(file, manyNames());
    const first = await open(SERIES);
    expect(fs.existsSync(besidePath(file))).toBe(true);
    expect(first.store.index().catalog).toMatchObject({ indexedFirst: 1, series: SERIES });
    expect(first.store.charts.size).toBeLessThan(10);
    const held = await open(Infinity);
    expect(held.store.index().catalog.series).toBe(0);
    for (const metric of CHARTS)
      expect(chartData(first.store, metric, { width: 600 }), metric).toEqual(
        chartData(held.store, metric, { width: 600 }),
      );
  });

  it('holds every series as before when its first bytes name one series fewer than the catalog bound', async () => {
    fs.writeFileSync(file, manyNames());
    const live = await open(SERIES + 1);
    expect(live.store.index().catalog).toMatchObject({ indexedFirst: 0, series: 0 });
    expect(live.store.charts.size).toBeGreaterThan(NAMES);
    expect(fs.existsSync(besidePath(file))).toBe(false);
  });

  it(`holds every series as before when its names come after its first ${NAMES_SAMPLE_BYTES} bytes`, async () => {
    let filler = '';
    for (let step = 0; filler.length <= NAMES_SAMPLE_BYTES; step++) filler += row(step, 'loss', step % 7);
    fs.writeFileSync(file, filler + manyNames());
    const live = await open(SERIES);
    expect(live.store.index().catalog).toMatchObject({ indexedFirst: 0, series: 0 });
    expect(live.store.charts.size).toBeGreaterThan(NAMES);
  });
});

describe('names counted at the start of a stream', () => {
  it('counts the non-system series of the whole lines in the sample, and none after it', async () => {
    const text = manyNames();
    fs.writeFileSync(file, text);
    const fd = fs.openSync(file, 'r');
    try {
      const size = fs.statSync(file).size;
      expect(await seriesAtStart(file, fd, size, Infinity, size, size)).toBe(SERIES);
      expect(await seriesAtStart(file, fd, size, 100, size, size)).toBe(100);
      // Step 0 names m/name_00000, loss, shared and eval/shared; a sample that ends inside the
      // line of m/name_00001 does not read it, one that ends with that line does.
      const second = text.indexOf('m/name_00001');
      expect(await seriesAtStart(file, fd, size, Infinity, second, second)).toBe(4);
      const end = text.indexOf('\n', second) + 1;
      expect(await seriesAtStart(file, fd, size, Infinity, end, end)).toBe(5);
    } finally {
      fs.closeSync(fd);
    }
  });

  it(`reads past its first ${NAMES_PROBE_BYTES} bytes only where they name series at a rate that can reach the bound`, async () => {
    const names = manyNames();
    const text = names + names.replaceAll('m/name_', 'n/name_');
    fs.writeFileSync(file, text);
    const fd = fs.openSync(file, 'r');
    try {
      const size = fs.statSync(file).size;
      const probe = names.length;
      // The first `probe` bytes name SERIES series: at that rate 2 × probe bytes name 2 × SERIES.
      expect(await seriesAtStart(file, fd, size, 2 * SERIES, 2 * probe, probe)).toBe(2 * SERIES - 3);
      expect(await seriesAtStart(file, fd, size, 2 * SERIES + 1, 2 * probe, probe)).toBe(SERIES);
    } finally {
      fs.closeSync(fd);
    }
  });
});
