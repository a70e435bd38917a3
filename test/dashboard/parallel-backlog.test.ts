/**
 * The first read of a big backlog in worker threads. Workers run the compiled reader (dist/, built
 * by the test global setup): TypeScript sources cannot be loaded into a worker on Node 20. Every
 * result is compared with the same stream read by one thread (jobs: 1).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import type * as Store from '../../src/dashboard/series-store.js';
import type * as Reader from '../../src/dashboard/stream-reader.js';
import { scalarLine } from '../helpers/dashboard-runs.js';

const DIST = fileURLToPath(new URL('../../dist/src/dashboard/', import.meta.url));
const built = fs.existsSync(path.join(DIST, 'backlog-worker.js'));
if (!built && process.env.CI !== undefined)
  throw new Error(
    `${DIST}backlog-worker.js is missing: run \`npm run build\` before the tests (npm test does)`,
  );

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-dash-parallel-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function load(): Promise<{
  SeriesStore: typeof Store.SeriesStore;
  StreamReader: typeof Reader.StreamReader;
}> {
  const store = (await import(pathToFileURL(path.join(DIST, 'series-store.js')).href)) as typeof Store;
  const reader = (await import(pathToFileURL(path.join(DIST, 'stream-reader.js')).href)) as typeof Reader;
  return { SeriesStore: store.SeriesStore, StreamReader: reader.StreamReader };
}

const lines = (from: number, to: number, name = 'loss'): string => {
  let text = '';
  for (let step = from; step < to; step++) text += scalarLine(step, name, Math.sin(step / 9) + step / 1000);
  return text;
};

interface Reading {
  store: Store.SeriesStore;
  reader: Reader.StreamReader;
  faults: string[];
}

async function read(active: string, jobs: number): Promise<Reading> {
  const { SeriesStore, StreamReader } = await load();
  const store = new SeriesStore();
  const faults: string[] = [];
  const reader = new StreamReader(
    { activePath: active, run: 'run', rank: 0 },
    store,
    (file, line) => faults.push(`${path.basename(file)}:${line.line}:${line.field}`),
    { jobs, parallelMinBytes: 1 },
  );
  await reader.poll();
  return { store, reader, faults };
}

/** Every series' buckets and counts, by chart and line, as plain arrays. */
function dump(store: Store.SeriesStore): unknown {
  return [...store.charts.values()].map((chart) => ({
    metric: chart.metric,
    lines: [...chart.lines.values()].map((line) =>
      [...line.ranks.values()].map((s) => ({
        buckets: Array.from(s.data.subarray(0, s.length * 14)),
        points: s.points,
        nan: s.nan,
        posInf: s.posInf,
        negInf: s.negInf,
        firstTs: s.firstTs,
      })),
    ),
  }));
}

describe.skipIf(!built)('the dashboard reads a big backlog in worker threads', () => {
  it('gives the series, malformed reports and line numbers one thread gives, across segments and the active file', async () => {
    const run = path.join(dir, 'segments');
    fs.mkdirSync(run);
    const active = path.join(run, 'metrics.ndjson');
    fs.writeFileSync(
      path.join(run, 'metrics.000001.ndjson.gz'),
      gzipSync(lines(0, 400) + lines(0, 400, 'lr')),
    );
    fs.writeFileSync(
      path.join(run, 'metrics.000002.ndjson'),
      `${lines(400, 900)}{"broken": \n${lines(900, 1200)}`,
    );
    const system = `{"v":1,"ts":${1_764_000_000},"run_id":"r1","step":3,"name":"system","values":{"cpu_percent":40,"gpu_0_util_percent":90},"tags":{"phase":"system"}}\n`;
    fs.writeFileSync(
      active,
      `${lines(1200, 2000)}${system}{"step": oops}\n${lines(2000, 3000)}${lines(0, 50, 'eval/acc')}`,
    );
    const parallel = await read(active, 3);
    const single = await read(active, 1);
    expect(dump(parallel.store)).toEqual(dump(single.store));
    expect(parallel.store.series('run', 0, 'train', 'loss').points).toBe(3000);
    expect(parallel.faults).toEqual(single.faults);
    expect(single.faults).toEqual(['metrics.000002.ndjson:501:line', 'metrics.ndjson:802:line']);
    expect(parallel.store.malformed).toBe(2);

    // Polling goes on from where the workers stopped: no line twice, line numbers continue.
    for (const r of [parallel, single]) {
      fs.appendFileSync(active, '');
      await r.reader.poll();
    }
    fs.appendFileSync(active, `${lines(3000, 3002)}{"late": }\n`);
    await parallel.reader.poll();
    await single.reader.poll();
    expect(dump(parallel.store)).toEqual(dump(single.store));
    expect(parallel.store.series('run', 0, 'train', 'loss').points).toBe(3002);
    expect(parallel.faults.at(-1)).toBe(single.faults.at(-1));
    expect(single.faults.at(-1)).toBe('metrics.ndjson:1855:line');
    await parallel.reader.close();
    await single.reader.close();
  });

  it('leaves an unfinished last line for the next poll instead of calling it malformed', async () => {
    const active = path.join(dir, 'unfinished.ndjson');
    const partial = scalarLine(600, 'loss', 0.5);
    fs.writeFileSync(active, lines(0, 600) + partial.slice(0, 30));
    const { store, reader, faults } = await read(active, 2);
    expect(store.series('run', 0, 'train', 'loss').points).toBe(600);
    fs.appendFileSync(active, partial.slice(30));
    await reader.poll();
    expect(store.series('run', 0, 'train', 'loss').points).toBe(601);
    expect(faults).toEqual([]);
    await reader.close();
  });

  it('keeps a spike in a later worker range, and the counts, extremes and non-finite values of one read, past the bucket limit', async () => {
    const active = path.join(dir, 'long.ndjson');
    let text = '';
    for (let step = 0; step < 30_000; step++) {
      const value =
        step === 21_337 ? 1e6 : step === 25_000 ? NaN : step === 26_000 ? -Infinity : Math.cos(step / 50);
      text += scalarLine(step, 'loss', value);
    }
    fs.writeFileSync(active, text);
    const [parallel, single] = [await read(active, 4), await read(active, 1)];
    const p = parallel.store.series('run', 0, 'train', 'loss');
    const s = single.store.series('run', 0, 'train', 'loss');
    expect([p.points, p.nan, p.negInf, p.posInf, p.firstTs]).toEqual([30_000, 1, 1, 0, s.firstTs]);
    expect([s.points, s.nan, s.negInf]).toEqual([30_000, 1, 1]);
    expect(p.length).toBeLessThanOrEqual(4096);
    const column = (series: typeof p, at: number): number[] =>
      Array.from({ length: series.length }, (_, b) => series.data[b * 14 + at] as number);
    const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
    // Column 7 is each bucket's max, 5 the step of that max, 4 the min, 10 the points, 11 non-finite bits.
    expect(Math.max(...column(p, 7))).toBe(1e6);
    expect(column(p, 5)[column(p, 7).indexOf(1e6)]).toBe(21_337);
    expect(Math.min(...column(p, 4))).toBe(Math.min(...column(s, 4)));
    expect(sum(column(p, 10))).toBe(30_000);
    expect(column(p, 11).filter((bits) => bits !== 0)).toHaveLength(2);
    await parallel.reader.close();
    await single.reader.close();
  });

  it('reads a stream whose lines have no step in one thread, where a point count can place them', async () => {
    const active = path.join(dir, 'stepless.ndjson');
    let text = '';
    for (let i = 0; i < 500; i++) text += `{"loss":${i / 100},"phase":"train"}\n`;
    fs.writeFileSync(active, text);
    const [parallel, single] = [await read(active, 3), await read(active, 1)];
    expect(dump(parallel.store)).toEqual(dump(single.store));
    const s = parallel.store.series('run', 0, 'train', 'loss');
    expect(s.data[499 * 14]).toBe(499);
    await parallel.reader.close();
    await single.reader.close();
  });
});
