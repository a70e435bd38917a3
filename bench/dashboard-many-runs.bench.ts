/**
 * The dashboard on many runs at once (issue 25): R run folders, each with its own
 * `.codex/metrics.ndjson` under its own run id (20 scalars × S steps plus system snapshots every 10
 * steps), the dashboard started on their parent folder, beside TensorBoard on the same runs' event
 * files, in the same run of the benchmark:
 * - the first open (no index yet), then a wait until every run's index is whole;
 * - load: from starting `codex-telemetry dashboard PARENT` to the first complete render in chromium
 *   with every index present (the median of INDEXED_OPENS opens), vs from starting `tensorboard` to
 *   it serving every tag of every run through its last step. The goal is absolute: ≤ 2 s.
 *
 * R × S: 10 × 2,000 by default, 4 × 1,000 with --quick, 100 × 100,000 (the issue's case, about
 * 27 GB of stream) with --dashboard-full; CODEX_BENCH_MANY_RUNS and CODEX_BENCH_MANY_RUNS_STEPS
 * override either. A stream under INDEXED_MIN_BYTES (16 MiB, about 6,200 steps here) gets no index
 * by design (it is read whole at each open): the rows say how many runs opened from an index.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { besidePath } from '../src/run-index/index-path.js';
import {
  generate,
  INDEXED_MIN_BYTES,
  indexWhole,
  launchChromium,
  openOnce,
  replayToTensorBoard,
  settleWrites,
  SCALARS,
  tensorboard,
  TENSORBOARD_TIMEOUT_MS,
  type TensorBoardFigure,
} from './dashboard-harness.js';
import type { Bench, BenchResult } from './types.js';

/** Opens timed with every index present; the median is the figure. */
const INDEXED_OPENS = 3;
const GOAL_MS = 2000;
/**
 * Stream bytes a step of `generate` writes (20 scalar lines, a tenth of a system line): 2,723
 * measured at 1,000 steps, a little more as step numbers lengthen.
 */
const BYTES_PER_STEP = 2_750;
/** Disk the bench needs per stream byte: the stream, its index, TensorBoard's event files, slack. */
const DISK_PER_STREAM_BYTE = 1.6;

function size(quick: boolean): { runs: number; steps: number } {
  const full = process.argv.includes('--dashboard-full');
  const runs = Number(process.env.CODEX_BENCH_MANY_RUNS ?? (full ? 100 : quick ? 4 : 10));
  const steps = Number(process.env.CODEX_BENCH_MANY_RUNS_STEPS ?? (full ? 100_000 : quick ? 1_000 : 2_000));
  if (!Number.isInteger(runs) || runs < 1 || !Number.isInteger(steps) || steps < 1)
    throw new Error(
      `CODEX_BENCH_MANY_RUNS (${runs}) and CODEX_BENCH_MANY_RUNS_STEPS (${steps}) must be positive integers`,
    );
  return { runs, steps };
}

/** Refuses a size that cannot fit, before writing gigabytes of it. */
function checkDisk(dir: string, runs: number, steps: number): void {
  const needed = runs * steps * BYTES_PER_STEP * DISK_PER_STREAM_BYTE;
  const stat = fs.statfsSync(dir);
  const free = stat.bavail * stat.bsize;
  if (needed > free)
    throw new Error(
      `${runs} runs × ${steps} steps need about ${(needed / 1e9).toFixed(1)} GB in ${dir}, ${(free / 1e9).toFixed(1)} GB are free: set TMPDIR to a larger disk or lower CODEX_BENCH_MANY_RUNS / CODEX_BENCH_MANY_RUNS_STEPS`,
    );
}

/** Progress on stderr: at the full size a phase takes minutes. */
function say(line: string): void {
  process.stderr.write(`dashboard-many-runs: ${line} (load ${os.loadavg()[0]?.toFixed(2)})\n`);
}

const median = (xs: readonly number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
};

export const run: Bench = async ({ quick, tmpDir }) => {
  const { runs, steps } = size(quick);
  checkDisk(tmpDir, runs, steps);
  const parent = path.join(tmpDir, 'runs');
  const streams: string[] = [];
  for (let r = 0; r < runs; r++) {
    const runId = `run-${String(r).padStart(3, '0')}`;
    const stream = path.join(parent, runId, '.codex', 'metrics.ndjson');
    // Each run its own noise: the page aligns lines whose steps differ, as real runs' do.
    generate(stream, steps, runId, r + 1);
    streams.push(stream);
  }
  const bytes = streams.map((stream) => fs.statSync(stream).size);
  const totalGb = bytes.reduce((a, b) => a + b, 0) / 1e9;
  say(`${runs} runs × ${steps} steps generated, ${totalGb.toFixed(2)} GB`);
  // Only a stream the dashboard both indexes and opens from its index is waited for.
  const toIndex = streams.filter((_, i) => (bytes[i] as number) >= INDEXED_MIN_BYTES);
  const browser = await launchChromium();
  let first: { loadMs: number; rssMb: number };
  let indexAfterRenderMs = NaN;
  let wholeIndexes = 0;
  const indexedOpens: number[] = [];
  settleWrites();
  let rssMb = 0;
  try {
    // The first open: each stream is read in full and indexed in the background; the bench waits
    // for every index to be whole before the timed opens.
    for (const stream of streams) fs.rmSync(besidePath(stream), { force: true });
    first = await openOnce(browser, parent, async () => {
      const rendered = performance.now();
      const until = rendered + TENSORBOARD_TIMEOUT_MS;
      // An index once whole is not read again: re-reading them all would slow the builds it waits for.
      const pending = new Set(toIndex);
      for (;;) {
        for (const stream of pending)
          if (indexWhole(besidePath(stream), fs.statSync(stream).size)) pending.delete(stream);
        wholeIndexes = toIndex.length - pending.size;
        if (pending.size === 0 || performance.now() >= until) break;
        await new Promise((r) => setTimeout(r, 500));
      }
      indexAfterRenderMs = performance.now() - rendered;
    });
    say(
      `first open ${first.loadMs.toFixed(0)} ms; ${wholeIndexes} indexes whole ${indexAfterRenderMs.toFixed(0)} ms after`,
    );
    if (wholeIndexes < toIndex.length)
      throw new Error(
        `${wholeIndexes} of ${toIndex.length} run indexes were whole ${TENSORBOARD_TIMEOUT_MS} ms after the first render`,
      );
    for (let i = 0; i < INDEXED_OPENS; i++) {
      const open = await openOnce(browser, parent, () => Promise.resolve());
      indexedOpens.push(open.loadMs);
      rssMb = Math.max(rssMb, open.rssMb);
      say(`indexed open ${i + 1}: ${open.loadMs.toFixed(0)} ms`);
    }
  } finally {
    await browser.close();
  }
  const indexedMedian = median(indexedOpens);

  const python = process.env.CODEX_TENSORBOARD_PYTHON;
  let tb: TensorBoardFigure | undefined;
  if (python !== undefined && fs.existsSync(python)) {
    // One replay per run: `tail` given several runs' streams replays them as one new run.
    const out = path.join(tmpDir, 'tb');
    for (const stream of streams) replayToTensorBoard(stream, out);
    say('TensorBoard event files written');
    settleWrites();
    tb = await tensorboard(python, path.join(out, 'runs'), runs * SCALARS.length, steps - 1);
    say(`TensorBoard served every tag after ${tb.ms.toFixed(0)} ms`);
  }
  const notMeasured = 'TensorBoard: not measured (set CODEX_TENSORBOARD_PYTHON)';
  const label = `${runs} runs × 20 scalars × ${steps.toLocaleString('en')} steps (${totalGb.toFixed(2)} GB of stream; ${toIndex.length} of ${runs} runs over the ${INDEXED_MIN_BYTES >> 20} MiB index threshold)`;
  const present =
    toIndex.length === runs
      ? 'every index present'
      : toIndex.length === 0
        ? 'no index (streams under the threshold are read whole, by design)'
        : `${toIndex.length} indexes present, the rest read whole`;
  const results: BenchResult[] = [
    {
      figure: `dashboard first open of the parent folder without indexes, load to first complete render, ${label}`,
      unit: 'ms',
      ours: first.loadMs,
      baseline: tb?.ms,
      baselineName: tb?.name ?? notMeasured,
      ratio: tb === undefined ? undefined : tb.ms / first.loadMs,
      goal: 'informational',
      met: undefined,
    },
    {
      figure: `  every run's index whole this long after that first render (${wholeIndexes} indexes)`,
      unit: 'ms',
      ours: indexAfterRenderMs,
      baseline: undefined,
      baselineName: 'informational: each stream is indexed in the background once read',
      ratio: undefined,
      goal: 'informational',
      met: undefined,
    },
    {
      figure: `  dashboard server peak RSS on that first open, its index builds included`,
      unit: 'MB',
      ours: first.rssMb,
      baseline: undefined,
      baselineName: 'informational',
      ratio: undefined,
      goal: 'informational',
      met: undefined,
    },
    {
      figure: `dashboard load to first complete render, ${present}, ${label}, median of ${INDEXED_OPENS} opens (${indexedOpens.map((ms) => ms.toFixed(0)).join(', ')} ms)`,
      unit: 'ms',
      ours: indexedMedian,
      baseline: tb?.ms,
      baselineName: tb === undefined ? notMeasured : `${tb.name}, until every tag of every run is served`,
      ratio: tb === undefined ? undefined : tb.ms / indexedMedian,
      goal: `<= ${GOAL_MS} ms`,
      met: indexedMedian <= GOAL_MS,
    },
    {
      figure: `dashboard server peak RSS over those opens, ${runs} runs`,
      unit: 'MB',
      ours: rssMb,
      baseline: tb?.rssMb,
      baselineName: tb === undefined ? notMeasured : `${tb.name}, all processes`,
      ratio: tb === undefined ? undefined : tb.rssMb / rssMb,
      goal: 'informational',
      met: undefined,
    },
  ];
  return results;
};
