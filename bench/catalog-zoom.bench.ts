/**
 * Drag-zoom of a chart of a stream opened as a catalog (src/dashboard/catalog/): `/api/zoom` from
 * request to answer, on the dashboard server, for windows of `loss` small enough to answer every
 * row (read by the level-0 buckets' offsets the catalog keeps), one in the rows after the index,
 * a wide one (level-0 envelopes), and a one-row name; each answer is checked against a full scan.
 * Baseline, in the same run: that full scan (every line of the stream parsed, what reading the
 * window's rows as logged costs without the offsets). Also the server's peak RSS after the zooms.
 *
 * The stream: one row for each of N names `layer_<i>/grad_norm` (as dashboard-names.bench.ts),
 * a `loss` row every 10th step (NaN and ±Infinity among them), its index built whole, then 1,000
 * more `loss` steps after the index. N: 1,000,000 with --dashboard-full, 20,000 with --quick,
 * 100,000 otherwise, or CODEX_BENCH_CATALOG_ZOOM_NAMES.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChartModel } from '../src/dashboard/chart-model.js';
import { NameTable } from '../src/ndjson/line/name-table.js';
import { PHASE_NAMES, type MetricVisitor, type PhaseId } from '../src/ndjson/line/metric-visitor.js';
import { readMetricRecords } from '../src/ndjson/read-metric-records.js';
import { loadStreamIndex } from '../src/run-index/stream-index.js';
import { waitForLine } from './dashboard-harness.js';
import type { Bench, BenchResult } from './types.js';

const CLI = fileURLToPath(new URL('../src/cli/codex-telemetry.js', import.meta.url));
const SERVE_TIMEOUT_MS = 10 * 60_000;
const RSS_GOAL_MB = 300;
/** `loss` steps logged after the index. */
const TAIL_STEPS = 1000;
/** Windows timed per kind (the median is the figure). */
const REPEATS = 7;

function names(quick: boolean): number {
  const env = process.env.CODEX_BENCH_CATALOG_ZOOM_NAMES;
  if (env !== undefined) return Number(env);
  if (process.argv.includes('--dashboard-full')) return 1_000_000;
  return quick ? 20_000 : 100_000;
}

function loss(step: number): string {
  if (step % 370 === 0) return '"NaN"';
  if (step % 530 === 0) return '"Infinity"';
  if (step % 710 === 0) return '"-Infinity"';
  return String(Math.exp(-step / 1e5) + 0.01 * Math.sin(step));
}

function lossRow(step: number): string {
  return `{"v":1,"ts":${1.76e9 + step},"run_id":"bench","step":${step},"name":"loss","value":${loss(step)},"tags":{"phase":"train"}}\n`;
}

function generate(file: string, n: number): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const fd = fs.openSync(file, 'w');
  let chunk = '';
  for (let i = 0; i < n; i++) {
    chunk += `{"v":1,"ts":${1.76e9 + i},"run_id":"bench","step":${i},"name":"layer_${i}/grad_norm","value":${i % 97},"tags":{"phase":"train"}}\n`;
    if (i % 10 === 0) chunk += lossRow(i);
    if (chunk.length > 8_000_000) {
      fs.writeSync(fd, chunk);
      chunk = '';
    }
  }
  fs.writeSync(fd, chunk);
  fs.closeSync(fd);
}

interface Row {
  step: number;
  value: number;
}

/** Every row of `loss` and of one other name, parsing each line of the stream. */
async function fullScan(file: string, other: string): Promise<{ loss: Row[]; other: Row[] }> {
  const tables = { names: new NameTable(), runs: new NameTable() };
  const lossId = tables.names.idOfString('loss');
  const otherId = tables.names.idOfString(other);
  const out = { loss: [] as Row[], other: [] as Row[] };
  const visitor: MetricVisitor = {
    scalar(phase: PhaseId, name: number, _run: number, step: number | bigint, _ts: number, value: number) {
      if (PHASE_NAMES[phase] !== 'train') return;
      if (name === lossId) out.loss.push({ step: Number(step), value });
      else if (name === otherId) out.other.push({ step: Number(step), value });
    },
    malformed() {},
  };
  await readMetricRecords(file, visitor, tables);
  return out;
}

function peakRssMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
};

/** Whether an exact answer holds `rows` as logged: finite ones as the line, the others as marks. */
function sameRows(chart: ChartModel, rows: readonly Row[]): boolean {
  const series = chart.series[0];
  if (series === undefined || series.zoom?.mode !== 'exact') return false;
  const finite = rows.filter((r) => Number.isFinite(r.value));
  const other = rows.filter((r) => !Number.isFinite(r.value));
  return (
    series.zoom.rows === rows.length &&
    series.step.join() === finite.map((r) => r.step).join() &&
    series.y.join() === finite.map((r) => r.value).join() &&
    series.marks.map((m) => m[0]).join() === other.map((r) => r.step).join()
  );
}

export const run: Bench = async ({ quick, tmpDir }) => {
  const n = names(quick);
  const runDir = path.join(tmpDir, 'catalog-zoom');
  const stream = path.join(runDir, 'metrics.ndjson');
  generate(stream, n);
  await loadStreamIndex(stream, { rescanBytes: 0 });
  let tail = '';
  for (let step = n; step < n + TAIL_STEPS; step++) tail += lossRow(step);
  fs.appendFileSync(stream, tail);
  const streamMb = fs.statSync(stream).size / 1e6;
  const middle = `layer_${Math.floor(n / 2)}/grad_norm`;

  const scanStarted = performance.now();
  const scanned = await fullScan(stream, middle);
  const scanMs = performance.now() - scanStarted;
  const window = (from: number, to: number): Row[] =>
    scanned.loss.filter((r) => r.step >= from && r.step <= to);

  const server = spawn(process.execPath, [CLI, 'dashboard', runDir, '--port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
  try {
    const url = await waitForLine(server, /dashboard: (http\S+)/, 'the dashboard', SERVE_TIMEOUT_MS);
    const index = (await (await fetch(`${url}api/index`)).json()) as { catalog?: { series: number } };
    if ((index.catalog?.series ?? 0) < n) throw new Error(`the stream did not open as a catalog`);
    const zoom = async (metric: string, from: number, to: number): Promise<[number, ChartModel]> => {
      const started = performance.now();
      const response = await fetch(
        `${url}api/zoom?metric=${encodeURIComponent(metric)}&width=600&from=${from}&to=${to}`,
      );
      const text = await response.text();
      const ms = performance.now() - started;
      if (!response.ok) throw new Error(`/api/zoom ${metric} ${from}–${to}: ${response.status} ${text}`);
      return [ms, JSON.parse(text) as ChartModel];
    };
    // The first zoom of a chart makes it (its buckets read back from the index): timed apart.
    const [firstMs, firstChart] = await zoom('loss', 0, 19_999);
    /** Windows whose answer was not every row as logged. */
    const wrong: string[] = [];
    if (!sameRows(firstChart, window(0, 19_999))) wrong.push('loss 0–19999');
    /** REPEATS windows of `steps` steps spread over the run, each checked: the median ms. */
    const timed = async (steps: number, start: (k: number) => number): Promise<number> => {
      const times: number[] = [];
      for (let k = 0; k < REPEATS; k++) {
        const from = start(k);
        const [ms, chart] = await zoom('loss', from, from + steps - 1);
        times.push(ms);
        if (!sameRows(chart, window(from, from + steps - 1))) wrong.push(`loss ${from}–${from + steps - 1}`);
      }
      return median(times);
    };
    const span = Math.max(0, n - 50_000);
    const narrowMs = await timed(20_000, (k) => Math.floor((span * k) / REPEATS));
    // 38,000 steps: 3,800 loss rows, with the window's two edge buckets (64 rows each) under the
    // 4,096 a 600-pixel chart reads exactly (EXACT_MIN_ROWS).
    const boundMs = await timed(38_000, (k) => Math.floor((span * k) / REPEATS));
    const tailMs = await timed(TAIL_STEPS, () => n - TAIL_STEPS / 2);
    const wideTimes: number[] = [];
    let wideMode = '';
    for (let k = 0; k < REPEATS; k++) {
      const [ms, chart] = await zoom('loss', 0, n + TAIL_STEPS);
      wideTimes.push(ms);
      wideMode = chart.series[0]?.zoom?.mode ?? 'none';
    }
    const oneRowTimes: number[] = [];
    for (let k = 0; k < REPEATS; k++) {
      const [ms, chart] = await zoom(middle, 0, n);
      oneRowTimes.push(ms);
      if (!sameRows(chart, scanned.other)) wrong.push(middle);
    }
    const rssMb = peakRssMb(server.pid as number);
    server.kill('SIGTERM');
    await exited;

    const size = `${n.toLocaleString('en')} names (${streamMb.toFixed(0)} MB stream)`;
    const vsScan = (ms: number, figure: string): BenchResult => ({
      figure,
      unit: 'ms',
      ours: ms,
      baseline: scanMs,
      baselineName: 'a full scan of the stream (in the bench process)',
      ratio: scanMs / ms,
      goal: 'informational',
      met: undefined,
    });
    return [
      vsScan(
        narrowMs,
        `/api/zoom of loss, 20,000-step windows (2,000 rows, exact), median of ${REPEATS}, ${size}`,
      ),
      vsScan(boundMs, `  38,000-step windows (3,800 rows: near the exact bound at 600 px, 4,096)`),
      vsScan(tailMs, `  a ${TAIL_STEPS}-step window across the index's end into the rows after it`),
      vsScan(firstMs, `  the first zoom of the chart (chart made from the index, then 20,000 steps)`),
      vsScan(median(oneRowTimes), `  a one-row name (${middle}), whole run`),
      vsScan(median(wideTimes), `  the whole run (mode ${wideMode})`),
      {
        figure: `  exact answers not the rows a full scan gives (NaN, ±Infinity as marks)${wrong.length > 0 ? `: ${wrong.join(', ')}` : ''}`,
        unit: 'windows',
        ours: wrong.length,
        baseline: undefined,
        baselineName: 'the full scan',
        ratio: undefined,
        goal: '0',
        met: wrong.length === 0,
      },
      {
        figure: `  dashboard server peak RSS after those zooms`,
        unit: 'MB',
        ours: rssMb,
        baseline: undefined,
        baselineName: 'none (absolute goal)',
        ratio: undefined,
        goal: `<= ${RSS_GOAL_MB} MB`,
        met: rssMb <= RSS_GOAL_MB,
      },
    ];
  } finally {
    server.kill('SIGKILL');
  }
};
