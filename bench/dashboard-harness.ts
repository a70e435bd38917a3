/**
 * What the dashboard benches share: the generated training stream, chromium, one timed open of the
 * dashboard, whether a run index is whole, peak RSS, and TensorBoard on the same runs as the
 * baseline (the stream replayed by `codex-telemetry tail`, then `tensorboard` until it serves every
 * tag through the last step). Not a bench itself (run-all.ts runs `*.bench.js` only).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { INDEX_MIN_BYTES } from '../src/dashboard/index-backlog.js';
import { PARALLEL_MIN_BYTES } from '../src/dashboard/read-backlog.js';
import { decodeIndex } from '../src/run-index/index-codec.js';
import { CHROMIUM, CHROMIUM_ARGS } from '../test/helpers/chromium.js';

export const CLI = fileURLToPath(new URL('../src/cli/codex-telemetry.js', import.meta.url));
/** A benchmark that cannot finish says so instead of hanging. */
export const TENSORBOARD_TIMEOUT_MS = 20 * 60_000;
/** TensorBoard answers asked for at once while polling: thousands of tags at once would queue in its server. */
const TENSORBOARD_CONCURRENT_ASKS = 8;
export const SCALARS = Array.from({ length: 20 }, (_, i) =>
  i === 0 ? 'loss' : `train/metric_${String(i).padStart(2, '0')}`,
);

/**
 * A training stream: the 20 SCALARS at every step, and a system snapshot every 10 steps.
 * `variant` > 0 gives a run its own noise (another phase and frequency of the wiggle), so the steps
 * of its minima and maxima differ from another variant's, as two real runs' do; 0 is the stream
 * every bench wrote before (all runs alike).
 */
export function generate(file: string, n: number, runId = 'bench', variant = 0): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const fd = fs.openSync(file, 'w');
  let chunk = '';
  for (let step = 0; step < n; step++) {
    const ts = 1.76e9 + step * 0.1;
    for (let i = 0; i < SCALARS.length; i++) {
      const value =
        2.3 * Math.exp(-step / (n / 4)) + 0.05 * Math.sin(i + variant + step / (7 + variant / 13));
      chunk += `{"v":1,"ts":${ts.toFixed(3)},"run_id":"${runId}","step":${step},"name":"${SCALARS[i] as string}","value":${value},"tags":{"phase":"train"}}\n`;
    }
    if (step % 10 === 0) {
      const u = 50 + 40 * Math.sin(step / 500);
      chunk += `{"v":1,"ts":${ts.toFixed(3)},"run_id":"${runId}","step":${step / 10},"name":"system","values":{"cpu_percent":${u},"ram_used_bytes":${8e9 + step},"gpu_0_util_percent":${u},"gpu_1_util_percent":${100 - u},"gpu_0_temp_c":${60 + u / 10}},"tags":{"phase":"system"}}\n`;
    }
    if (chunk.length > 8_000_000) {
      fs.writeSync(fd, chunk);
      chunk = '';
    }
  }
  fs.writeSync(fd, chunk);
  fs.closeSync(fd);
}

/**
 * Streams from this size are indexed on a first open and opened from their index after; a smaller
 * one is read whole at every open, by design, and no index is ever written for it (a bench that
 * waits for one waits until its timeout).
 */
export const INDEXED_MIN_BYTES = Math.max(INDEX_MIN_BYTES, PARALLEL_MIN_BYTES);

/**
 * Whether the index beside the stream is written through the stream's end. The file exists from
 * the first bytes of its only write: a bench that took existence for done measured a part of it
 * (35.65 MB of 62.46 MB at 1,000,000 steps) and could open the run again before it was whole.
 */
export function indexWhole(index: string, streamBytes: number): boolean {
  if (!fs.existsSync(index)) return false;
  return decodeIndex(fs.readFileSync(index)).blocks.at(-1)?.end === streamBytes;
}

/** Peak resident memory (VmHWM) of a process and its children, in MB; 0 once it is gone. */
export function peakRssMb(pid: number): number {
  let kb = 0;
  const walk = (p: number): void => {
    const status = fs.readFileSync(`/proc/${p}/status`, 'utf8');
    kb += Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
    for (const task of fs.readdirSync(`/proc/${p}/task`)) {
      const children = fs.readFileSync(`/proc/${p}/task/${task}/children`, 'utf8').trim();
      for (const child of children.split(/\s+/).filter((c) => c !== '')) walk(Number(child));
    }
  };
  walk(pid);
  return kb / 1024;
}

/** The first match of `pattern` in the child's output (its group 1); fails if it exits first or `timeoutMs` passes. */
export function waitForLine(
  child: ChildProcess,
  pattern: RegExp,
  what: string,
  timeoutMs = Infinity,
): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = Number.isFinite(timeoutMs)
      ? setTimeout(() => reject(new Error(`${what}: not ready after ${timeoutMs} ms`)), timeoutMs)
      : undefined;
    const onData = (data: Buffer): void => {
      seen += String(data);
      const match = pattern.exec(seen);
      if (!match) return;
      clearTimeout(timer);
      resolve(match[1] as string);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${code}) before it was ready:\n${seen.slice(-2000)}`));
    });
  });
}

async function getJson(url: string): Promise<unknown> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.json();
}

/**
 * The browser is up before any clock starts, as a user's is: a load figure is the server's start,
 * its read of the runs and the page's first complete render, not chromium's own start.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: CHROMIUM_ARGS,
  });
}

/** What the page logs once it marks its first render complete (see `watchReady`). */
const READY_SIGNAL = 'codex-dashboard-ready';

/**
 * Set before the page's own script runs: logs READY_SIGNAL when the dashboard sets
 * `body[data-ready]`. A `waitForSelector` injects playwright's script into the page (31 ms of its
 * main thread, measured in a chromium trace, while the page drew its charts) and polls: it saw the
 * render 67-240 ms after the page's own clock marked it. A console message arrives within a few ms.
 */
const SIGNAL_READY = `new MutationObserver((_records, observer) => {
  if (document.body !== null && document.body.dataset.ready === 'true') {
    observer.disconnect();
    console.debug('${READY_SIGNAL}');
  }
}).observe(document, { attributes: true, subtree: true, attributeFilter: ['data-ready'] });`;

/**
 * Call before the page navigates; the returned promise settles when the page's first render is
 * complete (or fails after `timeoutMs`).
 */
export async function watchReady(page: Page, timeoutMs = 600_000): Promise<{ ready: Promise<void> }> {
  await page.addInitScript({ content: SIGNAL_READY });
  const ready = page
    .waitForEvent('console', { predicate: (message) => message.text() === READY_SIGNAL, timeout: timeoutMs })
    .then(() => undefined);
  // Observed by the caller; kept from becoming an unhandled rejection if the open fails first.
  ready.catch(() => undefined);
  // In an object: an async function returning the promise itself would wait for it.
  return { ready };
}

/**
 * Starts the dashboard on `input`, waits for the page's first complete render, runs `meanwhile`,
 * stops it. `rssMb` is the server's peak RSS once `meanwhile` is done (on a first open: the index
 * builds too).
 */
export async function openOnce(
  browser: Browser,
  input: string,
  meanwhile: (page: Page, server: ChildProcess) => Promise<void>,
  options: { cli?: string; beforeStart?: (page: Page) => Promise<void> } = {},
): Promise<{ loadMs: number; rssMb: number }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await options.beforeStart?.(page);
  const { ready } = await watchReady(page);
  const started = performance.now();
  const server = spawn(process.execPath, [options.cli ?? CLI, 'dashboard', input, '--port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    const url = await waitForLine(server, /dashboard: (http\S+)/, 'the dashboard');
    await page.goto(url);
    await ready;
    const loadMs = performance.now() - started;
    await meanwhile(page, server);
    return { loadMs, rssMb: peakRssMb(server.pid as number) };
  } finally {
    await page.close();
    await stopProcess(server);
  }
}

/**
 * Writes back what the bench just wrote (gigabytes of generated stream, an index, event files)
 * before a timed open: the opens and TensorBoard's load are timed on a settled machine, not
 * beside the kernel writing those pages to disk.
 */
export function settleWrites(): void {
  spawnSync('sync', { stdio: 'ignore' });
}

/** Bounds how long a stopped process may take to exit before it is killed outright. */
const STOP_TIMEOUT_MS = 10_000;

/**
 * Stops a child and waits until it has exited: the next open starts on a machine where the last
 * server is gone, not one still shutting down beside it (its teardown competed with the next
 * open's start for the 2 CPUs).
 */
export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}

/**
 * Writes the stream's TensorBoard event files under `out` (`out/runs/<its run id>/...`): the
 * baseline reads what the bridge writes for the same run.
 */
export function replayToTensorBoard(stream: string, out: string): void {
  const replay = spawnSync(
    process.execPath,
    [CLI, 'tail', '--from-start', '--out', out, '--no-wandb', '--no-prometheus', '--no-ndjson', stream],
    { encoding: 'utf8' },
  );
  if (replay.status !== 0) throw new Error(`writing the TensorBoard event files failed: ${replay.stderr}`);
}

export interface TensorBoardFigure {
  ms: number;
  rssMb: number;
  name: string;
}

/** Asks for each pair's last step, a few at a time. */
async function lastSteps(base: string, pairs: ReadonlyArray<readonly [string, string]>): Promise<number[]> {
  const last: number[] = [];
  for (let i = 0; i < pairs.length; i += TENSORBOARD_CONCURRENT_ASKS) {
    const batch = pairs.slice(i, i + TENSORBOARD_CONCURRENT_ASKS);
    last.push(
      ...(await Promise.all(
        batch.map(async ([run, tag]) => {
          const points = (await getJson(
            `${base}/data/plugin/scalars/scalars?run=${encodeURIComponent(run)}&tag=${encodeURIComponent(tag)}`,
          )) as number[][];
          return (points.at(-1)?.[1] ?? -1) as number;
        }),
      )),
    );
  }
  return last;
}

/**
 * Starts TensorBoard on `logdir`; resolves when it serves `tags` training scalars (SCALARS of runs
 * whose name ends in `train`), each through `lastStep`. A pair seen through `lastStep` is not asked
 * again, so polling many runs does not slow the server it measures.
 */
export async function tensorboard(
  python: string,
  logdir: string,
  tags: number,
  lastStep: number,
): Promise<TensorBoardFigure> {
  const probe = spawnSync(
    python,
    ['-c', 'import tensorboard_data_server as d; print(d.server_binary() or "")'],
    {
      encoding: 'utf8',
    },
  );
  const fast = probe.status === 0 && probe.stdout.trim() !== '';
  const name = fast
    ? 'TensorBoard 2.21 --load_fast=true'
    : 'TensorBoard 2.21 --load_fast=false (true unavailable: no data server binary here)';
  const started = performance.now();
  const child = spawn(
    python,
    [
      '-m',
      'tensorboard.main',
      '--logdir',
      logdir,
      '--port',
      '0',
      '--host',
      '127.0.0.1',
      `--load_fast=${fast}`,
      '--reload_interval',
      '1',
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const done = new Set<string>();
  try {
    const base = await waitForLine(child, /(http:\/\/[^\s]+?)\/? \(Press CTRL\+C/, 'tensorboard');
    for (;;) {
      const index = (await getJson(`${base}/data/plugin/scalars/tags`)) as Record<
        string,
        Record<string, unknown>
      >;
      const pairs = Object.entries(index).flatMap(([run, t]) =>
        Object.keys(t)
          .filter((tag) => run.endsWith('train') && SCALARS.includes(tag))
          .map((tag) => [run, tag] as const),
      );
      if (pairs.length >= tags) {
        const pending = pairs.filter(([run, tag]) => !done.has(`${run}\0${tag}`));
        const last = await lastSteps(base, pending);
        pending.forEach(([run, tag], i) => {
          if ((last[i] as number) >= lastStep) done.add(`${run}\0${tag}`);
        });
        if (done.size >= tags)
          return { ms: performance.now() - started, rssMb: peakRssMb(child.pid as number), name };
      }
      if (performance.now() - started > TENSORBOARD_TIMEOUT_MS) {
        throw new Error(
          `TensorBoard served ${done.size} of ${tags} tags through step ${lastStep} within ${TENSORBOARD_TIMEOUT_MS} ms`,
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await stopProcess(child);
  }
}
