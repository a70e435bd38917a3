/**
 * A stream opened from its run index: the store holds what a full read gives (points, non-finite
 * counts, extremes and where they are, step range), the follower goes on after the index, and the
 * stream's rows are not read again.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BUCKET as B, COLUMNS, type BucketSeries } from '../../src/dashboard/bucket-series.js';
import { chartData } from '../../src/dashboard/chart-data.js';
import { SeriesStore, type Chart } from '../../src/dashboard/series-store.js';
import { DEFERRED_MAX_BLOCKS } from '../../src/dashboard/deferred-series.js';
import { TelemetryError } from '../../src/errors.js';
import { StreamReader } from '../../src/dashboard/stream-reader.js';
import type { MalformedLine } from '../../src/ndjson/line/metric-visitor.js';
import { MALFORMED_SAMPLES } from '../../src/run-index/index-builder.js';
import { besidePath } from '../../src/run-index/index-path.js';
import { loadStreamIndex } from '../../src/run-index/stream-index.js';
import { RECORD_BYTES } from '../../src/run-index/bucket-record.js';
import { scanIndex } from '../../src/run-index/index-scan.js';
import { appendStream, streamLines, writeStream } from '../run-index/make-stream.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'index-backlog-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

interface Summary {
  points: number;
  nan: number;
  posInf: number;
  negInf: number;
  min: [number, number];
  max: [number, number];
  steps: [number, number];
}

function summary(s: BucketSeries): Summary {
  let min: [number, number] = [Infinity, NaN];
  let max: [number, number] = [-Infinity, NaN];
  let lo = Infinity;
  let hi = -Infinity;
  for (let b = 0; b < s.length; b++) {
    const o = b * COLUMNS;
    if ((s.data[o + B.VMIN] as number) < min[0])
      min = [s.data[o + B.VMIN] as number, s.data[o + B.XMIN] as number];
    if ((s.data[o + B.VMAX] as number) > max[0])
      max = [s.data[o + B.VMAX] as number, s.data[o + B.XMAX] as number];
    lo = Math.min(lo, s.data[o + B.X0] as number);
    hi = Math.max(hi, s.data[o + B.X0] as number, s.data[o + B.XMAX] as number, s.data[o + B.XMIN] as number);
  }
  hi = Math.max(hi, s.lastStep);
  return { points: s.points, nan: s.nan, posInf: s.posInf, negInf: s.negInf, min, max, steps: [lo, hi] };
}

/** Every chart as a reader of the store gets it (`chart()` reads the series it defers). */
function summaries(store: SeriesStore): Record<string, Summary> {
  const out: Record<string, Summary> = {};
  for (const metric of store.charts.keys())
    for (const [id, line] of (store.chart(metric) as Chart).lines)
      for (const [rank, series] of line.ranks) out[`${metric}|${id}|${rank}`] = summary(series);
  return out;
}

/** Which series of each chart still wait for their buckets (deferred-series.ts). */
function unsettled(store: SeriesStore): Record<string, boolean> {
  const out: Record<string, boolean> = {};
  for (const chart of store.charts.values())
    out[chart.metric] = [...chart.lines.values()].some((line) =>
      [...line.ranks.values()].some((series) => series.unsettled),
    );
  return out;
}

async function open(
  file: string,
  fromIndex: boolean,
  onMalformed?: (file: string, line: MalformedLine) => void,
): Promise<{ store: SeriesStore; reader: StreamReader }> {
  const store = new SeriesStore();
  const reader = new StreamReader({ activePath: file, run: 'run', rank: 0 }, store, onMalformed, {
    jobs: 1,
    indexMinBytes: fromIndex ? 0 : Infinity,
  });
  await reader.poll();
  return { store, reader };
}

describe('the dashboard opens a stream from its run index', () => {
  it('holds what a full read holds, and follows what is appended after', async () => {
    const file = path.join(dir, 'metrics.ndjson');
    writeStream(file, 0, 20_000);
    const indexed = await open(file, true);
    expect(fs.existsSync(besidePath(file))).toBe(true);
    const full = await open(file, false);
    expect(Object.keys(summaries(indexed.store)).length).toBe(4);
    expect(summaries(indexed.store)).toEqual(summaries(full.store));
    // The index now accounts for the whole stream: the next open reads only the buckets it draws.
    const again = await open(file, true);
    expect(summaries(again.store)).toEqual(summaries(full.store));
    await again.reader.close();
    appendStream(file, 20_000, 20_500);
    await indexed.reader.poll();
    await full.reader.poll();
    expect(summaries(indexed.store)).toEqual(summaries(full.store));
    await indexed.reader.close();
    await full.reader.close();
  });

  it('reads a series when its chart is first asked for, and says so when its index was rewritten since', async () => {
    const file = path.join(dir, 'metrics.ndjson');
    writeStream(file, 0, 20_000);
    await loadStreamIndex(file, {});
    const full = await open(file, false);
    const indexed = await open(file, true);
    const charts = Object.keys(unsettled(indexed.store));
    expect(charts.length).toBeGreaterThan(2);
    expect(Object.values(unsettled(indexed.store)).every(Boolean)).toBe(true);
    // `/api/index` shows how many series are still unread.
    const unread = (): number => indexed.store.index().buckets.unread;
    const series = indexed.store.index().buckets.series;
    expect(unread()).toBe(series);
    // Points are counted at the start, for the run clock's choice of a run's densest series.
    const points = (store: SeriesStore, metric: string): number[] =>
      [...(store.charts.get(metric) as Chart).lines.values()].flatMap((line) =>
        [...line.ranks.values()].map((series) => series.points),
      );
    for (const metric of charts) expect(points(indexed.store, metric)).toEqual(points(full.store, metric));
    // A system chart asked for first: its samples are placed on the run's densest training series
    // (the run clock), whose buckets are read for it.
    const system = indexed.store.charts.get('system/cpu_percent');
    const clock = chartData(indexed.store, (system as Chart).metric, { width: 600 })?.series[0]?.clock;
    expect(clock?.step.length).toBeGreaterThan(100);
    expect(Math.max(...(clock?.step ?? []))).toBeGreaterThan(19_900);
    expect(unsettled(indexed.store).loss).toBe(false);
    // The system chart's line and the run's densest training series (`loss`) were read for it.
    expect(unread()).toBe(series - 2);
    indexed.store.chart('loss');
    expect(unread()).toBe(series - 2);
    expect(unsettled(indexed.store)).toEqual(
      Object.fromEntries(charts.map((m) => [m, m !== 'loss' && m !== (system as Chart).metric])),
    );
    expect(summaries(indexed.store)).toEqual(summaries(full.store));
    await indexed.reader.close();

    // The index rewritten in place since the open (a byte of each of its records changed): each
    // chart asks for a restart instead of drawing other buckets than the index had when opened.
    const again = await open(file, true);
    const index = besidePath(file);
    const streamFd = fs.openSync(file, 'r');
    const scanned = scanIndex(index, streamFd, 'head');
    fs.closeSync(streamFd);
    const bytes = fs.readFileSync(index);
    for (const block of scanned?.blocks ?? [])
      for (let r = 0; r < block.records; r++) bytes[block.recordsAt + r * RECORD_BYTES + 3] ^= 0xff;
    fs.writeFileSync(index, bytes);
    const asked = Object.keys(unsettled(again.store)).map((metric) => {
      try {
        again.store.chart(metric);
        return 'drawn';
      } catch (error) {
        expect(error).toBeInstanceOf(TelemetryError);
        expect((error as TelemetryError).code).toBe('INDEX_CHANGED');
        expect((error as Error).message).toMatch(/restart the dashboard/);
        return 'changed';
      }
    });
    expect(asked).toEqual(asked.map(() => 'changed'));
    await again.reader.close();
    await full.reader.close();
  });

  it(`reads every series at the start from an index of more than ${DEFERRED_MAX_BLOCKS} blocks (a read a block a series)`, async () => {
    const file = path.join(dir, 'metrics.ndjson');
    writeStream(file, 0, 2000);
    // Each load that finds rows after the index appends a block for them.
    for (let k = 1; k <= DEFERRED_MAX_BLOCKS; k++) {
      await loadStreamIndex(file, { rescanBytes: 0 });
      appendStream(file, k * 2000, (k + 1) * 2000);
    }
    await loadStreamIndex(file, { rescanBytes: 0 });
    const blocks = (await loadStreamIndex(file, { rescanBytes: 0 }))?.blocks.length ?? 0;
    expect(blocks).toBe(DEFERRED_MAX_BLOCKS + 1);
    const many = await open(file, true);
    expect(Object.values(unsettled(many.store)).some(Boolean)).toBe(false);
    const full = await open(file, false);
    expect(summaries(many.store)).toEqual(summaries(full.store));
    await many.reader.close();
    await full.reader.close();
  });

  it('reads a stream whose rows have no step instead of opening it from its index', async () => {
    const file = path.join(dir, 'metrics.ndjson');
    let text = '';
    for (let i = 0; i < 3000; i++) text += `{"loss":${Math.sin(i)},"phase":"train"}\n`;
    fs.writeFileSync(file, text);
    // Rows without a step are placed by their count, which the index's buckets do not hold.
    const indexed = await open(file, true);
    const full = await open(file, false);
    expect(summaries(indexed.store)).toEqual(summaries(full.store));
    expect(Object.values(summaries(indexed.store))[0]?.steps).toEqual([0, 2999]);
    await indexed.reader.close();
    await full.reader.close();
  });

  it('reads none of the rows an up-to-date index holds', async () => {
    const file = path.join(dir, 'metrics.ndjson');
    writeStream(file, 0, 5000);
    await loadStreamIndex(file, { rescanBytes: 0 });
    // Values the index holds are overwritten in place (the head and tail the index checks are kept):
    // a read from the index cannot see that, a read of the rows would.
    const text = fs.readFileSync(file, 'utf8');
    const full = await open(file, false);
    const middle = text
      .slice(8192, -8192)
      .replace(/"value":[-0-9.e]+,/g, (m) => '"value":' + '7'.padEnd(m.length - 9, ' ') + ',');
    const fd = fs.openSync(file, 'r+');
    fs.writeSync(fd, middle, 8192);
    fs.closeSync(fd);
    expect(fs.readFileSync(file, 'utf8')).not.toBe(text);
    const indexed = await open(file, true);
    expect(summaries(indexed.store)).toEqual(summaries(full.store));
    await indexed.reader.close();
    await full.reader.close();
  });

  it('malformed lines the index covers are still reported: the first few where they are, the rest counted', async () => {
    const file = path.join(dir, 'metrics.ndjson');
    const lines = streamLines(0, 3000).split('\n');
    // Eight bad lines spread through the stream, each replacing a good one.
    const bad = [100, 700, 1200, 1800, 2300, 2900, 3300, 3600];
    for (const at of bad)
      lines[at] = `{"v":1,"step":${at},"name":"loss","value":"oops","tags":{"phase":"train"}}`;
    fs.writeFileSync(file, lines.join('\n'));
    const reported: { file: string; line: number; field: string }[] = [];
    const full = await open(file, false, (f, line) =>
      reported.push({ file: f, line: line.line, field: line.field }),
    );
    const fullReport = reported.splice(0);
    expect(full.store.malformed).toBe(bad.length);
    // The index is built by a first open (from line 1, so every location is known), and the next
    // open reads only the index.
    await loadStreamIndex(file, {});
    const indexed = await open(file, true, (f, line) =>
      reported.push({ file: f, line: line.line, field: line.field }),
    );
    expect(indexed.store.malformed).toBe(bad.length);
    expect(reported.slice(0, MALFORMED_SAMPLES)).toEqual(fullReport.slice(0, MALFORMED_SAMPLES));
    expect(reported.slice(MALFORMED_SAMPLES)).toEqual([{ file, line: 0, field: 'file' }]);
    await indexed.reader.close();
    await full.reader.close();
  });
});
