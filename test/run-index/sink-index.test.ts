import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RotationPolicy } from '../../src/exporters/file/rotation-policy.js';
import { NdjsonExporter } from '../../src/exporters/ndjson/ndjson-exporter.js';
import { SinkHealth } from '../../src/health.js';
import { listSegments, segmentPath } from '../../src/ndjson/segments.js';
import type { Row } from '../../src/pipeline/row.js';
import { besidePath } from '../../src/run-index/index-path.js';
import { loadStreamIndex } from '../../src/run-index/stream-index.js';
import { expectSameAsFullScan } from './index-check.js';

let dir: string;
let env: NodeJS.ProcessEnv;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sink-index-'));
  env = { ...process.env, XDG_CACHE_HOME: path.join(dir, 'cache') };
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const SPECIAL = [NaN, Infinity, -Infinity];

function rows(from: number, to: number): Row[] {
  const out: Row[] = [];
  for (let step = from; step < to; step++) {
    const ts = 1_700_000_000 + step * 0.123456789;
    out.push({
      stream: 'train',
      phase: 'train',
      step,
      ts,
      names: ['loss', 'lr', 'grad_norm/ü'],
      values: [
        step % 89 === 5 ? (SPECIAL[step % 3] as number) : Math.cos(step),
        1e-3 / (1 + step),
        step % 13,
      ],
    });
    if (step % 25 === 0)
      out.push({
        stream: 'system',
        phase: 'system',
        step,
        ts,
        names: ['cpu_percent', 'gpu_0_util_percent'],
        values: [step % 100, 50],
      });
  }
  return out;
}

function exporter(
  file: string,
  rotation?: RotationPolicy,
  gzip = false,
  maxHeldIndexBytes?: number,
): NdjsonExporter {
  return new NdjsonExporter({
    path: file,
    runId: 'r-1',
    streams: ['train', 'system'],
    health: new SinkHealth(() => undefined),
    rotation,
    gzipSegments: gzip,
    maxHeldIndexBytes,
  });
}

describe('the NDJSON sink keeps an index as it writes', () => {
  it('leaves a whole index on close that a reader takes as it is, equal to a full scan', async () => {
    const file = path.join(dir, 'metrics.ndjson');
    const sink = exporter(file);
    for (let s = 0; s < 4000; s += 100) {
      sink.write(rows(s, s + 100));
      if (s % 1000 === 0) await sink.flush();
    }
    await sink.close();
    expect(fs.existsSync(besidePath(file))).toBe(true);
    const index = await loadStreamIndex(file, { env });
    expect(index.reused).toBe(true);
    expect(index.scanned).toBe(0);
    expect(index.open.length).toBe(0);
    await expectSameAsFullScan(index, file);
  });

  it('indexes each name under its own series when rows change which names they log, and in what order', async () => {
    const file = path.join(dir, 'metrics.ndjson');
    const sink = exporter(file);
    const orders = [
      ['loss', 'lr', 'acc'],
      ['lr', 'loss'],
      ['acc'],
      ['loss', 'acc', 'lr', 'grad_norm/ü'],
      ['lr'],
    ];
    for (let s = 0; s < 3000; s += 100) {
      const batch: Row[] = [];
      for (let step = s; step < s + 100; step++) {
        const names = orders[step % orders.length] as string[];
        batch.push({
          stream: 'train',
          phase: 'train',
          step,
          ts: 1_700_000_000 + step,
          names,
          values: names.map((n) => n.length * step),
        });
        if (step % 7 === 0)
          batch.push({
            stream: 'train',
            phase: 'eval',
            step,
            ts: 1_700_000_000 + step,
            names: ['lr', 'loss'],
            values: [-step, step],
          });
      }
      sink.write(batch);
      if (s % 1000 === 0) await sink.flush();
    }
    await sink.close();
    const index = await loadStreamIndex(file, { env });
    expect({ reused: index.reused, scanned: index.scanned }).toEqual({ reused: true, scanned: 0 });
    expect(index.defs.map((d) => `${d.phase}/${d.name}`).sort()).toEqual([
      'eval/loss',
      'eval/lr',
      'train/acc',
      'train/grad_norm/ü',
      'train/loss',
      'train/lr',
    ]);
    await expectSameAsFullScan(index, file);
  });

  it('writes each later block without reading the stream back: its tail hash comes from the bytes it appended', async () => {
    const file = path.join(dir, 'metrics.ndjson');
    const sink = exporter(file);
    sink.write(rows(0, 100));
    await sink.flush();
    const opens = vi.spyOn(fs, 'openSync');
    for (let s = 100; s < 1000; s += 100) {
      sink.write(rows(s, s + 100));
      await sink.flush();
    }
    const streamOpens = opens.mock.calls.filter(([opened]) => opened === file).length;
    opens.mockRestore();
    await sink.close();
    expect(streamOpens).toBe(0);
    const index = await loadStreamIndex(file, { env });
    expect({ reused: index.reused, scanned: index.scanned }).toEqual({ reused: true, scanned: 0 });
    await expectSameAsFullScan(index, file);
  });

  it('lets a reader see a live stream from its flushed blocks, re-reading only the open buckets', async () => {
    const file = path.join(dir, 'metrics.ndjson');
    const sink = exporter(file);
    sink.write(rows(0, 3000));
    await sink.flush();
    sink.write(rows(3000, 3010));
    await sink.flush();
    const index = await loadStreamIndex(file, { env });
    expect(index.reused).toBe(true);
    expect(index.scanned).toBeGreaterThan(0);
    expect(index.scanned).toBeLessThan(fs.statSync(file).size);
    await expectSameAsFullScan(index, file);
    // The sink writes this index: the reader did not append to it.
    const before = fs.statSync(besidePath(file)).size;
    await loadStreamIndex(file, { env });
    expect(fs.statSync(besidePath(file)).size).toBe(before);
    await sink.close();
  });

  it('a loop that never yields no longer holds the whole index in memory: blocks reach disk between flushes, and the index still equals a full scan', async () => {
    const file = path.join(dir, 'metrics.ndjson');
    const sink = exporter(file, undefined, false, 64 << 10);
    // No flush and no await between writes, as in a training loop that never yields.
    let sizes = 0;
    for (let s = 0; s < 60_000; s += 1000) {
      sink.write(rows(s, s + 1000));
      if (fs.existsSync(besidePath(file)) && fs.statSync(besidePath(file)).size > 0) sizes++;
    }
    // The index file grew while the loop ran (its held records stayed bounded), not only at close.
    expect(sizes).toBeGreaterThan(0);
    await sink.close();
    const index = await loadStreamIndex(file, { env });
    expect(index.reused).toBe(true);
    await expectSameAsFullScan(index, file);
  });

  it('finishes the index on the synchronous exit path', async () => {
    const file = path.join(dir, 'metrics.ndjson');
    const sink = exporter(file);
    sink.write(rows(0, 1234));
    sink.closeSync();
    const index = await loadStreamIndex(file, { env });
    expect(index.scanned).toBe(0);
    await expectSameAsFullScan(index, file);
  });

  it('moves the index with each rotated segment, plain and gzip, each equal to a full scan', async () => {
    for (const gzip of [false, true]) {
      const sub = path.join(dir, gzip ? 'gz' : 'plain');
      const file = path.join(sub, 'metrics.ndjson');
      const sink = exporter(file, new RotationPolicy({ maxBytes: 100_000 }), gzip);
      for (let s = 0; s < 3000; s += 50) {
        sink.write(rows(s, s + 50));
        await sink.flush();
      }
      await sink.close();
      const segments = listSegments(file);
      expect(segments.length).toBeGreaterThan(2);
      for (const segment of [...segments.map((x) => x.path), file]) {
        expect(fs.existsSync(besidePath(segment))).toBe(true);
        const index = await loadStreamIndex(segment, { env });
        expect({ segment, reused: index.reused, scanned: index.scanned }).toEqual({
          segment,
          reused: true,
          scanned: 0,
        });
        await expectSameAsFullScan(index, segment);
      }
    }
  });

  it('a rotation undone after its rename no longer leaves the index moved: the active file keeps one index equal to a full scan', async () => {
    const file = path.join(dir, 'metrics.ndjson');
    const warnings: string[] = [];
    const sink = new NdjsonExporter({
      path: file,
      runId: 'r-1',
      streams: ['train', 'system'],
      health: new SinkHealth((message) => warnings.push(message)),
      rotation: new RotationPolicy({ maxBytes: 50_000 }),
    });
    // The new active file cannot be created (the process is out of descriptors): the segment's
    // rename is undone and the sink keeps writing its file.
    const realOpen = fs.openSync;
    const refuse = vi.spyOn(fs, 'openSync').mockImplementation((...args: Parameters<typeof fs.openSync>) => {
      if (args[0] === file && typeof args[1] === 'number' && (args[1] & fs.constants.O_CREAT) !== 0)
        throw Object.assign(new Error(`EMFILE: too many open files, open '${file}'`), { code: 'EMFILE' });
      return realOpen(...args);
    });
    try {
      for (let s = 0; s < 1000; s += 50) {
        sink.write(rows(s, s + 50));
        await sink.flush();
      }
    } finally {
      refuse.mockRestore();
    }
    await sink.close();
    expect(warnings.some((w) => /rotating .* failed \(.*EMFILE/.test(w))).toBe(true);
    expect(listSegments(file)).toEqual([]);
    expect(fs.readdirSync(dir).filter((name) => name.endsWith('.idx'))).toEqual(['metrics.ndjson.idx']);
    const index = await loadStreamIndex(file, { env });
    expect({ reused: index.reused, scanned: index.scanned }).toEqual({ reused: true, scanned: 0 });
    await expectSameAsFullScan(index, file);
  });

  it('a rotation whose rename is refused keeps the index going: the active file and later segments each equal a full scan', async () => {
    const file = path.join(dir, 'metrics.ndjson');
    const sink = exporter(file, new RotationPolicy({ maxBytes: 50_000 }));
    // The first segment's name is then taken by a non-empty folder: that rename fails.
    fs.mkdirSync(path.join(segmentPath(file, 1), 'x'), { recursive: true });
    for (let s = 0; s < 2000; s += 50) {
      sink.write(rows(s, s + 50));
      await sink.flush();
    }
    await sink.close();
    const segments = listSegments(file).filter((segment) => segment.seq > 1);
    expect(segments.length).toBeGreaterThan(0);
    for (const stream of [...segments.map((segment) => segment.path), file]) {
      const index = await loadStreamIndex(stream, { env });
      expect({ stream, reused: index.reused, scanned: index.scanned }).toEqual({
        stream,
        reused: true,
        scanned: 0,
      });
      await expectSameAsFullScan(index, stream);
    }
  });

  it('never indexes a FIFO: no index file and no ESPIPE warning', async () => {
    const fifo = path.join(dir, 'metrics.fifo');
    const made = spawnSync('mkfifo', [fifo]);
    expect(made.status, String(made.stderr)).toBe(0);
    const out = path.join(dir, 'read.ndjson');
    const fd = fs.openSync(out, 'w');
    const reader = spawn('cat', [fifo], { stdio: ['ignore', fd, 'inherit'] });
    fs.closeSync(fd);
    const exited = new Promise((resolve) => reader.on('exit', resolve));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const warnings: string[] = [];
    const sink = new NdjsonExporter({
      path: fifo,
      runId: 'r-1',
      streams: ['train', 'system'],
      health: new SinkHealth((message) => warnings.push(message)),
    });
    sink.write(rows(0, 200));
    await sink.flush();
    await sink.close();
    await exited;
    expect(warnings).toEqual([]);
    expect(fs.readdirSync(dir).filter((name) => name.endsWith('.idx'))).toEqual([]);
    expect(fs.readFileSync(out, 'utf8').trimEnd().split('\n').length).toBeGreaterThan(600);
  });

  it('leaves a stream that already held lines to readers, which index it whole', async () => {
    const file = path.join(dir, 'metrics.ndjson');
    fs.writeFileSync(
      file,
      '{"v":1,"ts":1,"run_id":"old","step":0,"name":"loss","value":1,"tags":{"phase":"train"}}\n',
    );
    const sink = exporter(file);
    sink.write(rows(0, 500));
    await sink.close();
    expect(fs.existsSync(besidePath(file))).toBe(false);
    const index = await loadStreamIndex(file, { env });
    await expectSameAsFullScan(index, file);
  });
});
