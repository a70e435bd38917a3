/**
 * TensorBoard and W&B runs read the first time in a worker thread: the server answers /api while a
 * big run loads, and what the worker read (series, problems, what a W&B run says of itself) is what
 * a read in the dashboard's own thread gives. Workers run the compiled reader (dist/, built by the
 * test global setup): TypeScript sources cannot be loaded into a worker on Node 20.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type * as Server from '../../src/dashboard/server.js';
import type * as Store from '../../src/dashboard/series-store.js';
import type * as Reader from '../../src/dashboard/source-run-reader.js';
import { WandbExporter } from '../../src/exporters/wandb/wandb-exporter.js';
import { encodeScalarsRecord } from '../../src/formats/tensorboard/scalars-record.js';
import { SinkHealth } from '../../src/health.js';
import type { RunSpec } from '../../src/sources/discover-sources.js';
import { writeRun } from '../helpers/dashboard-runs.js';
import { storeSummaries } from '../helpers/store-summaries.js';

const DIST = fileURLToPath(new URL('../../dist/src/dashboard/', import.meta.url));
if (!fs.existsSync(path.join(DIST, 'source-worker.js')) && process.env.CI !== undefined)
  throw new Error(
    `${DIST}source-worker.js is missing: run \`npm run build\` before the tests (npm test does)`,
  );

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-source-worker-'));
const env = { ...process.env, XDG_CACHE_HOME: path.join(dir, 'cache') };
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const load = async <T>(file: string): Promise<T> =>
  (await import(pathToFileURL(path.join(DIST, file)).href)) as T;

const EVENT_FILE = 'events.out.tfevents.1700000000.host';

/** Event records of scalars `from` to `to` (one simple_value Event each, over three tags); those at `bad` have a bad CRC. */
function eventRecords(from: number, to: number, bad: (i: number) => boolean): Buffer {
  const tags = ['loss', 'eval/accuracy', 'grad_norm'];
  const parts: Buffer[] = [];
  for (let i = from; i < to; i++) {
    const step = Math.floor(i / 3);
    const part = encodeScalarsRecord(1.7e9 + step, step, [tags[i % 3] as string], [Math.sin(i) * 10]);
    if (bad(i)) part[part.length - 1] = (part[part.length - 1] as number) ^ 0xff;
    parts.push(part);
  }
  return Buffer.concat(parts);
}

/** `scalars` scalars; a record in the middle has a bad CRC (or every `badEvery`-th record has). */
function writeEventFile(run: string, scalars: number, badEvery?: number): void {
  fs.mkdirSync(run, { recursive: true });
  const middle = Math.floor(scalars / 2);
  const bad = badEvery === undefined ? (i: number) => i === middle : (i: number) => i % badEvery === 1;
  fs.writeFileSync(path.join(run, EVENT_FILE), eventRecords(0, scalars, bad));
}

async function writeWandbRun(parent: string, steps: number): Promise<string> {
  const exporter = new WandbExporter({
    dir: parent,
    runId: 'worker01',
    startTime: 1.7e9,
    health: new SinkHealth(() => undefined),
    config: { lr: 0.01 },
  });
  for (let step = 0; step < steps; step++) {
    exporter.write([
      { stream: 'train', phase: 'train', step, ts: 1.7e9 + step, names: ['loss'], values: [1 / (step + 1)] },
    ]);
    if (step % 10 === 0)
      exporter.write([
        {
          stream: 'system',
          phase: 'system',
          step: NaN,
          ts: 1.7e9 + step,
          names: ['cpu_percent'],
          values: [step % 100],
        },
      ]);
  }
  await exporter.close({ exitCode: 3 });
  return exporter.runDir;
}

interface ReadOptions {
  indexMinBytes?: number;
  catchUpBytes?: number;
}

/** A run read by the dashboard's reader, in a worker thread or not; what it shows and the problems it told. */
async function readRun(
  spec: RunSpec,
  worker: boolean,
  options: ReadOptions = {},
): Promise<{
  shown: { series: unknown; malformed: number; problems: string[]; info: unknown };
  firstReadInWorker: boolean;
  indexed: boolean;
  bytesRead: number;
}> {
  const { SeriesStore } = await load<typeof Store>('series-store.js');
  const { SourceRunReader } = await load<typeof Reader>('source-run-reader.js');
  const store = new SeriesStore();
  const problems: string[] = [];
  const reader = new SourceRunReader(
    spec,
    store,
    (file, line) => problems.push(`${path.basename(file)}:${line.field}: ${line.reason}`),
    30_000,
    () => undefined,
    { worker, waitForFirstRead: true, indexMinBytes: Infinity, env, ...options },
  );
  expect(await reader.poll()).toBe(true);
  await reader.close();
  const { name, id, state, exitCode, config, summary } = reader.info;
  return {
    shown: {
      series: storeSummaries(store),
      malformed: store.malformed,
      problems,
      info: { name, id, state, exitCode, config, summary, notShown: [...reader.info.notShown] },
    },
    firstReadInWorker: reader.firstReadInWorker,
    indexed: reader.indexed,
    bytesRead: reader.bytesRead,
  };
}

const readWith = async (spec: RunSpec, worker: boolean): Promise<unknown> =>
  (await readRun(spec, worker)).shown;

describe('TensorBoard and W&B runs read in a worker thread', () => {
  it('hold what a read in the dashboard thread holds: series, problems, and what the run says of itself', async () => {
    const tb = path.join(dir, 'same', 'tb');
    writeEventFile(tb, 30_000);
    const wandb = await writeWandbRun(path.join(dir, 'same', 'wandb'), 3000);
    for (const spec of [
      { kind: 'tfevents' as const, path: tb, name: 'tb' },
      { kind: 'wandb' as const, path: wandb, name: 'w' },
    ]) {
      const here = await readWith(spec, false);
      expect(await readWith(spec, true)).toEqual(here);
    }
    expect(await readWith({ kind: 'tfevents', path: tb, name: 'tb' }, true)).toMatchObject({
      malformed: 1,
      problems: [expect.stringContaining('CRC')],
    });
    expect(await readWith({ kind: 'wandb', path: wandb, name: 'w' }, true)).toMatchObject({
      info: { id: 'worker01', state: 'failed', exitCode: 3, config: { lr: 0.01 } },
    });
  });

  it('answers /api while a big run found after the start loads, then shows the run', async () => {
    const { startDashboard } = await load<typeof Server>('server.js');
    const root = path.join(dir, 'live');
    writeRun(path.join(root, 'small'), 50);
    const dashboard = await startDashboard({ inputs: [root], port: 0 });
    try {
      const index = async (): Promise<{ loading: string[]; charts: unknown[] }> =>
        (await (await fetch(`${dashboard.url}api/index`)).json()) as { loading: string[]; charts: unknown[] };
      const before = JSON.stringify((await index()).charts);
      const big = path.join(root, 'big');
      writeEventFile(big, 400_000);
      let seenLoading = false;
      let answered = 0;
      for (let tries = 0; tries < 600; tries++) {
        const answer = await index();
        answered++;
        if (answer.loading.includes(big)) seenLoading = true;
        else if (seenLoading) break;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      // Answers came while the run loaded (a read in the server's thread would have let none through).
      expect(seenLoading).toBe(true);
      expect(answered).toBeGreaterThan(1);
      const after = await index();
      expect(after.loading).toEqual([]);
      expect(JSON.stringify(after.charts)).not.toBe(before);
      expect(JSON.stringify(after.charts)).toContain('grad_norm');
    } finally {
      await dashboard.close();
    }
  }, 120_000);
});

describe('the second open of an indexed TensorBoard or W&B run', () => {
  const indexed = { indexMinBytes: 0 };

  it('opens from the index in the dashboard thread, starts no worker, and shows what the first open showed', async () => {
    const tb = path.join(dir, 'second', 'tb');
    writeEventFile(tb, 30_000);
    const wandb = await writeWandbRun(path.join(dir, 'second', 'wandb'), 3000);
    for (const spec of [
      { kind: 'tfevents' as const, path: tb, name: 'tb' },
      { kind: 'wandb' as const, path: wandb, name: 'w' },
    ]) {
      const first = await readRun(spec, true, indexed);
      expect(first).toMatchObject({ firstReadInWorker: true, indexed: false });
      const second = await readRun(spec, true, indexed);
      expect(second).toMatchObject({ firstReadInWorker: false, indexed: true, bytesRead: 0 });
      expect(second.shown.series).toEqual(first.shown.series);
      expect(second.shown.info).toEqual(first.shown.info);
    }
  });

  it('still goes to a worker when more than the catch-up bound was written after the index', async () => {
    const tb = path.join(dir, 'behind', 'tb');
    writeEventFile(tb, 3000);
    const spec = { kind: 'tfevents' as const, path: tb, name: 'tb' };
    expect((await readRun(spec, true, indexed)).firstReadInWorker).toBe(true);
    const appended = eventRecords(3000, 6000, () => false);
    fs.appendFileSync(path.join(tb, EVENT_FILE), appended);
    const behind = await readRun(spec, true, { ...indexed, catchUpBytes: appended.length - 1 });
    expect(behind).toMatchObject({ firstReadInWorker: true, indexed: true, bytesRead: appended.length });
    expect(behind.shown.series).toEqual((await readRun(spec, false)).shown.series);
    // At the bound it is read here; the worker's open above brought the index up to date, so
    // append again for a run exactly `catchUpBytes` past it.
    fs.appendFileSync(
      path.join(tb, EVENT_FILE),
      eventRecords(6000, 9000, () => false),
    );
    const atBound = await readRun(spec, true, { ...indexed, catchUpBytes: appended.length });
    expect(atBound).toMatchObject({ firstReadInWorker: false, indexed: true });
    expect(atBound.shown.series).toEqual((await readRun(spec, false)).shown.series);
  });
});

describe('problems a worker sends back', () => {
  it('are the first MALFORMED_SAMPLES, and the rest are counted as a read here counts them', async () => {
    const tb = path.join(dir, 'damaged', 'tb');
    writeEventFile(tb, 3000, 100);
    const spec = { kind: 'tfevents' as const, path: tb, name: 'tb' };
    const here = (await readRun(spec, false)).shown;
    expect(here.malformed).toBe(30);
    const worker = await readRun(spec, true);
    expect(worker.firstReadInWorker).toBe(true);
    expect(worker.shown.malformed).toBe(30);
    expect(worker.shown.problems.slice(0, 5)).toEqual(here.problems.slice(0, 5));
    expect(worker.shown.problems.slice(5)).toEqual([`tb:run: 25 more problems not listed (the first 5 are)`]);
    // At the cap: nothing left out, nothing more said.
    writeEventFile(path.join(dir, 'damaged', 'five'), 500, 100);
    const five = await readRun(
      { kind: 'tfevents', path: path.join(dir, 'damaged', 'five'), name: 'five' },
      true,
    );
    expect(five.shown.problems).toHaveLength(5);
    expect(five.shown.malformed).toBe(5);
  });
});

describe('a dashboard stopped while a worker reads a run', () => {
  it('exits promptly: the worker is terminated, not waited for', async () => {
    const root = path.join(dir, 'stop', 'root');
    writeRun(path.join(root, 'small'), 50);
    const staged = path.join(dir, 'stop', 'big');
    writeEventFile(staged, 600_000);
    const big = path.join(root, 'big');
    const server = pathToFileURL(path.join(DIST, 'server.js')).href;
    const script = `
      import fs from 'node:fs';
      const { startDashboard } = await import(${JSON.stringify(server)});
      const dashboard = await startDashboard({ inputs: [${JSON.stringify(root)}], port: 0 });
      fs.renameSync(${JSON.stringify(staged)}, ${JSON.stringify(big)});
      for (;;) {
        const index = await (await fetch(dashboard.url + 'api/index')).json();
        if (index.loading.includes(${JSON.stringify(big)})) break;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      await dashboard.close();
      process.stdout.write('closed');
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let closedAt = 0;
    let stderr = '';
    child.stdout.on('data', () => (closedAt = Date.now()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    const exitMs = Date.now() - closedAt;
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(closedAt).toBeGreaterThan(0);
    expect(exitMs).toBeLessThan(5000);
    // Cut off: the worker never got to keep the run's index (it does when its read ends).
    expect(fs.readdirSync(big).filter((name) => name.endsWith('.idx'))).toEqual([]);
  }, 120_000);
});
