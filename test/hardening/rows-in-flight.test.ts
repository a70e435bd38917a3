/**
 * Rows in flight are bounded (README "Bounds"): a loop that never yields gets every row written
 * synchronously past the high-water mark; a stuck sink (a FIFO whose reader is stopped) keeps its
 * queue under the cap, drops whole rows past it, counts them exactly and writes again once read.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { AppendFile } from '../../src/exporters/file/append-file.js';
import { SinkHealth } from '../../src/health.js';
import { startTelemetry } from '../../src/telemetry.js';
import { spawnAsync } from '../helpers/spawn-async.js';

const CHILD = fileURLToPath(new URL('../fixtures/children/never-yield.mjs', import.meta.url));
const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});
function tmpDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-inflight-'));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function countLines(file: string): number {
  const fd = fs.openSync(file, 'r');
  const buffer = Buffer.allocUnsafe(1 << 20);
  let count = 0;
  for (let read = fs.readSync(fd, buffer); read > 0; read = fs.readSync(fd, buffer)) {
    for (let at = buffer.indexOf(10); at !== -1 && at < read; at = buffer.indexOf(10, at + 1)) count++;
  }
  fs.closeSync(fd);
  return count;
}

/** A FIFO with `cat` reading it into a file; the test stops and continues the reader. */
function fifoWithReader(dir: string): { fifo: string; out: string; reader: ReturnType<typeof spawn> } {
  const fifo = path.join(dir, 'metrics.fifo');
  const out = path.join(dir, 'read.ndjson');
  const made = spawnSync('mkfifo', [fifo]);
  if (made.status !== 0) throw new Error(`mkfifo failed: ${made.stderr}`);
  const fd = fs.openSync(out, 'w');
  const reader = spawn('cat', [fifo], { stdio: ['ignore', fd, 'inherit'] });
  fs.closeSync(fd);
  cleanups.push(() => {
    reader.kill('SIGCONT');
    reader.kill('SIGKILL');
  });
  return { fifo, out, reader };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('rows in flight', () => {
  it('a loop that never yields loses the whole NDJSON stream: no longer, 1,500,000 log() calls all reach the file', async () => {
    const outDir = tmpDir();
    const child = await spawnAsync(process.execPath, [CHILD, outDir, '1500000', 'never'], {
      timeout: 240_000,
    });
    expect(child.status, child.stderr).toBe(0);
    expect(child.stderr).not.toMatch(/sink disabled/);
    const result = JSON.parse(child.stdout) as { peakRssBytes: number };
    // One line per scalar: 3 scalars per log().
    expect(countLines(path.join(outDir, '.codex/metrics.ndjson'))).toBe(4_500_000);
    process.stderr.write(`never-yielding loop: peak RSS ${(result.peakRssBytes / 2 ** 20).toFixed(0)} MiB\n`);
    // The row queue and the byte queue are bounded, not the 1.28 GB of the unbounded queue.
    expect(result.peakRssBytes).toBeLessThan(300 * 2 ** 20);
  }, 300_000);

  it('a stuck sink keeps its queue under the cap, drops whole rows, counts them exactly and writes again when read', async () => {
    const dir = tmpDir();
    const { fifo, out, reader } = fifoWithReader(dir);
    await sleep(100);
    const warnings: string[] = [];
    const health = new SinkHealth((message) => warnings.push(message));
    const cap = 1 << 20;
    const file = new AppendFile({ path: fifo, sink: 'ndjson', health, maxQueuedBytes: cap });
    reader.kill('SIGSTOP');
    const rows = 200_000;
    const line = (i: number): string => `{"step":${i},"pad":"${'x'.repeat(40)}"}\n`;
    let peakHeap = 0;
    for (let i = 0; i < rows; i++) {
      file.append(line(i));
      if (i % 10_000 === 0) peakHeap = Math.max(peakHeap, process.memoryUsage().arrayBuffers);
    }
    expect(file.isStuck).toBe(true);
    expect(file.droppedRows).toBeGreaterThan(0);
    expect(health.dropped('ndjson')).toBe(file.droppedRows);
    expect(warnings.filter((w) => w.includes('ndjson sink dropping rows'))).toHaveLength(1);
    // The cap, plus slack for the test's other buffers; 200,000 lines are 11 MB.
    expect(peakHeap).toBeLessThan(cap + 4 * 2 ** 20);
    reader.kill('SIGCONT');
    await file.flush();
    // Writing resumes: a row appended after the reader continued reaches the file.
    file.append(line(rows));
    await file.close();
    await new Promise((resolve) => reader.once('exit', resolve));
    const read = fs.readFileSync(out, 'utf8').split('\n').slice(0, -1);
    expect(read.length + file.droppedRows).toBe(rows + 1);
    expect(read.at(-1)).toBe(line(rows).trimEnd());
    // Whole lines only, in order.
    for (const text of read) expect(text).toMatch(/^\{"step":\d+,"pad":"x{40}"\}$/);
  }, 60_000);

  it('a pipe still stuck at close counts exactly the rows it never took whole, a torn last row among them', async () => {
    const dir = tmpDir();
    const { fifo, out, reader } = fifoWithReader(dir);
    await sleep(100);
    const health = new SinkHealth(() => undefined);
    // Rows of three lines, appended 100 to a chunk as the NDJSON sink does, of a length that does
    // not divide the pipe's buffer: the pipe takes part of a chunk and stops inside a row.
    const file = new AppendFile({
      path: fifo,
      sink: 'ndjson',
      health,
      stuckAfterMs: 200,
      highWaterBytes: 64 * 1024,
    });
    reader.kill('SIGSTOP');
    const line = (i: number): string => `{"step":${Math.floor(i / 3)},"pad":"${'x'.repeat(37)}"}\n`;
    const chunks = 100;
    for (let c = 0; c < chunks; c++) {
      let chunk = '';
      for (let i = c * 300; i < (c + 1) * 300; i++) chunk += line(i);
      file.append(chunk, 100, new Uint32Array(100).fill(3));
    }
    expect(file.isStuck).toBe(true);
    // Closed while the reader is still stopped: the pipe holds what it took, the rest is dropped.
    await file.close();
    reader.kill('SIGCONT');
    await new Promise((resolve) => reader.once('exit', resolve));
    const text = fs.readFileSync(out, 'utf8');
    const whole = text.split('\n').slice(0, -1);
    expect(text.endsWith('\n')).toBe(false);
    expect(whole.length).toBeGreaterThan(0);
    for (const [i, read] of whole.entries()) expect(read).toBe(line(i).trimEnd());
    expect(Math.floor(whole.length / 3) + file.droppedRows).toBe(chunks * 100);
    expect(health.dropped('ndjson')).toBe(file.droppedRows);
  }, 60_000);

  it('the NDJSON sink shut down on a stopped reader: lines read whole plus dropped rows are every row logged', async () => {
    const dir = tmpDir();
    const { fifo, out, reader } = fifoWithReader(dir);
    await sleep(100);
    const telemetry = await startTelemetry(
      {
        outDir: dir,
        metricsOut: fifo,
        prometheus: false,
        systemMetricsInterval: 0,
        installExitHandlers: false,
      },
      { env: {}, warn: () => undefined },
    );
    reader.kill('SIGSTOP');
    const steps = 20_000;
    for (let step = 0; step < steps; step++) {
      telemetry.log({ loss: 1 / (step + 1), lr: 0.001, acc: step % 100 }, { step });
      if (step % 1000 === 999) await new Promise((resolve) => setImmediate(resolve));
    }
    await telemetry.shutdown();
    reader.kill('SIGCONT');
    await new Promise((resolve) => reader.once('exit', resolve));
    const whole = fs.readFileSync(out, 'utf8').split('\n').slice(0, -1);
    expect(telemetry.health.dropped('ndjson')).toBeGreaterThan(0);
    // Three lines a row: a row whose three lines all reached the reader was written, else dropped.
    expect(Math.floor(whole.length / 3) + telemetry.health.dropped('ndjson')).toBe(steps);
  }, 60_000);

  it('a stuck sink tells its room, so a record known not to fit is dropped whole and counted without being encoded', async () => {
    const dir = tmpDir();
    const { fifo, out, reader } = fifoWithReader(dir);
    await sleep(100);
    const health = new SinkHealth(() => undefined);
    const cap = 1 << 20;
    const file = new AppendFile({ path: fifo, sink: 'ndjson', health, maxQueuedBytes: cap });
    expect(file.roomNow()).toBe(Infinity);
    reader.kill('SIGSTOP');
    const line = `{"pad":"${'x'.repeat(1000)}"}\n`;
    let appended = 0;
    // Bounded: a room that never shrinks must fail the test, not hang it.
    for (let i = 0; i < (2 * cap) / line.length && (!file.isStuck || file.roomNow() >= line.length); i++) {
      file.append(line);
      appended++;
    }
    expect(file.droppedRows).toBe(0);
    expect(file.roomNow()).toBeLessThan(line.length);
    file.dropRecord(3, line.length);
    expect(file.droppedRows).toBe(3);
    expect(health.dropped('ndjson')).toBe(3);
    reader.kill('SIGCONT');
    await file.close();
    await new Promise((resolve) => reader.once('exit', resolve));
    const read = fs.readFileSync(out, 'utf8');
    // Every appended line reached the reader; the dropped record left no byte.
    expect(read).toBe(line.repeat(appended));
  }, 60_000);

  it('a stuck W&B log ends at its cap: later records are dropped and counted, none is written after the gap', async () => {
    const dir = tmpDir();
    const { fifo, out, reader } = fifoWithReader(dir);
    await sleep(100);
    const health = new SinkHealth(() => undefined);
    const file = new AppendFile({
      path: fifo,
      sink: 'wandb',
      health,
      maxQueuedBytes: 1 << 20,
      capPolicy: 'seal',
    });
    reader.kill('SIGSTOP');
    const record = (i: number): string => `${String(i).padStart(9, '0')}${'y'.repeat(90)}\n`;
    for (let i = 0; i < 50_000; i++) file.append(record(i));
    const dropped = file.droppedRows;
    expect(dropped).toBeGreaterThan(0);
    reader.kill('SIGCONT');
    await file.flush();
    file.append(record(50_000));
    await file.close();
    await new Promise((resolve) => reader.once('exit', resolve));
    const read = fs.readFileSync(out, 'utf8').split('\n').slice(0, -1);
    // A prefix with no gap: record i is line i, and the one after recovery is dropped too.
    expect(read.map((text) => Number(text.slice(0, 9)))).toEqual(read.map((_, i) => i));
    expect(read.length + file.droppedRows).toBe(50_001);
  }, 60_000);
});
