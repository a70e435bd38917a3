import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { discoverStreams, streamOf } from '../../src/dashboard/discover.js';
import { SeriesStore } from '../../src/dashboard/series-store.js';
import { StreamReader } from '../../src/dashboard/stream-reader.js';
import { scalarLine } from '../helpers/dashboard-runs.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-dash-reader-'));
});
afterEach(() => {
  vi.restoreAllMocks();
  fs.rmSync(dir, { recursive: true, force: true });
});

const lines = (from: number, to: number): string => {
  let text = '';
  for (let step = from; step < to; step++) text += scalarLine(step, 'loss', step);
  return text;
};

function reader(active: string): { store: SeriesStore; reader: StreamReader; steps: () => number[] } {
  const store = new SeriesStore();
  const r = new StreamReader({ activePath: active, run: 'run', rank: 0 }, store);
  const steps = (): number[] => {
    const s = store.series('run', 0, 'train', 'loss');
    return Array.from({ length: s.length }, (_, b) => s.data[b * 14] as number);
  };
  return { store, reader: r, steps };
}

describe('the incremental stream reader', () => {
  it('reads nothing once closed: a round still polling as the dashboard stops does not read the stream again from its start', async () => {
    const active = path.join(dir, 'metrics.ndjson');
    fs.writeFileSync(active, lines(0, 10));
    const { store, reader: r, steps } = reader(active);
    await r.poll();
    await r.close();
    fs.appendFileSync(active, lines(10, 20));
    expect(await r.poll()).toBe(false);
    // Read again from the start, the first ten steps would be there twice.
    expect(steps()).toEqual([...Array(10).keys()]);
    expect(store.series('run', 0, 'train', 'loss').points).toBe(10);
  });

  it('reads only the bytes appended since the last poll, and waits for an unfinished line', async () => {
    const active = path.join(dir, 'metrics.ndjson');
    fs.writeFileSync(active, lines(0, 10));
    const { store, reader: r, steps } = reader(active);
    await r.poll();
    expect(steps()).toEqual([...Array(10).keys()]);
    // Bytes already read are spoiled in place (past the head the follower compares): read again,
    // they would count as malformed lines.
    const fd = fs.openSync(active, 'r+');
    fs.writeSync(fd, Buffer.alloc(200, 0x78), 0, 200, fs.statSync(active).size - 300);
    fs.closeSync(fd);
    const partial = scalarLine(12, 'loss', 12);
    fs.appendFileSync(active, lines(10, 12) + partial.slice(0, 20));
    await r.poll();
    expect(steps()).toHaveLength(12);
    fs.appendFileSync(active, partial.slice(20));
    await r.poll();
    expect(steps()).toEqual([...Array(13).keys()]);
    expect(store.malformed).toBe(0);
    await r.close();
  });

  it('notices a stream truncated and rewritten longer than before between two polls, and shows the new content only', async () => {
    const active = path.join(dir, 'metrics.ndjson');
    fs.writeFileSync(active, lines(0, 10));
    const { store, reader: r, steps } = reader(active);
    await r.poll();
    fs.writeFileSync(active, lines(100, 130));
    await r.poll();
    expect(steps()).toEqual([...Array(10).keys(), ...Array.from({ length: 30 }, (_, i) => 100 + i)]);
    expect(store.malformed).toBe(0);
    await r.close();
  });

  it('reads closed segments (gzip too) before the active file, then follows a rotation without loss or duplicates', async () => {
    const active = path.join(dir, 'metrics.ndjson');
    fs.writeFileSync(path.join(dir, 'metrics.000001.ndjson.gz'), gzipSync(lines(0, 5)));
    fs.writeFileSync(path.join(dir, 'metrics.000002.ndjson'), lines(5, 10));
    fs.writeFileSync(active, lines(10, 15));
    const { reader: r, steps } = reader(active);
    await r.poll();
    expect(steps()).toEqual([...Array(15).keys()]);
    // Between two polls: lines land, the file rotates, a whole segment is written and closed, a new file starts.
    fs.appendFileSync(active, lines(15, 17));
    fs.renameSync(active, path.join(dir, 'metrics.000003.ndjson'));
    fs.writeFileSync(path.join(dir, 'metrics.000004.ndjson'), lines(17, 20));
    fs.writeFileSync(active, lines(20, 22));
    await r.poll();
    expect(steps()).toEqual([...Array(22).keys()]);
    fs.appendFileSync(active, lines(22, 23));
    await r.poll();
    expect(steps()).toEqual([...Array(23).keys()]);
    await r.close();
  });

  it('starts a truncated file over', async () => {
    const active = path.join(dir, 'metrics.ndjson');
    fs.writeFileSync(active, lines(0, 10));
    const { reader: r, store } = reader(active);
    await r.poll();
    fs.writeFileSync(active, lines(100, 102));
    await r.poll();
    expect(store.series('run', 0, 'train', 'loss').points).toBe(12);
    await r.close();
  });

  it('counts malformed lines and reports them with file and line', async () => {
    const active = path.join(dir, 'metrics.ndjson');
    fs.writeFileSync(active, `${lines(0, 2)}{"step": oops}\n${lines(2, 3)}`);
    const store = new SeriesStore();
    const faults: string[] = [];
    const r = new StreamReader({ activePath: active, run: 'run', rank: 0 }, store, (file, line) =>
      faults.push(`${path.basename(file)}:${line.line}`),
    );
    await r.poll();
    expect(store.malformed).toBe(1);
    expect(faults).toEqual(['metrics.ndjson:3']);
    await r.close();
  });
});

describe('run discovery', () => {
  it('groups segments, eval streams and ranks of a run folder into one run, and names runs by folder', () => {
    const codex = path.join(dir, 'exp1', '.codex');
    fs.mkdirSync(codex, { recursive: true });
    for (const name of [
      'metrics.ndjson',
      'metrics.000001.ndjson.gz',
      'eval_metrics.ndjson',
      'metrics.rank3.ndjson',
      'metrics.rank3.000001.ndjson',
    ]) {
      fs.writeFileSync(path.join(codex, name), '');
    }
    fs.mkdirSync(path.join(dir, 'exp2'));
    fs.writeFileSync(path.join(dir, 'exp2', 'trainer.ndjson'), '');
    const specs = discoverStreams([dir]).map((s) => [path.relative(dir, s.activePath), s.run, s.rank]);
    expect(specs.sort()).toEqual(
      [
        ['exp1/.codex/eval_metrics.ndjson', 'exp1', 0],
        ['exp1/.codex/metrics.ndjson', 'exp1', 0],
        ['exp1/.codex/metrics.rank3.ndjson', 'exp1', 3],
        ['exp2/trainer.ndjson', 'exp2/trainer', 0],
      ].sort(),
    );
    expect(streamOf(path.join(codex, 'metrics.ndjson'), path.join(dir, 'exp1'))?.run).toBe('exp1');
    expect(streamOf('notes.txt')).toBeUndefined();
  });
});
