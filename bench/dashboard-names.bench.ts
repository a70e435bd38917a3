/**
 * The dashboard server on a run with very many metric names (one row each): time until it serves,
 * its peak RSS, the size of `/api/index` (a page of the charts), and how long SIGTERM takes to end
 * it, on the first open (no index: a foreign stream) and the next (its index beside it).
 *
 * Names: 1,000,000 (the issue's case) with --dashboard-full, 20,000 with --quick, 100,000
 * otherwise, or CODEX_BENCH_DASHBOARD_NAMES. With its index (the second open) a stream of 10,000
 * names or more opens as a catalog (src/dashboard/catalog/); the first open holds every series.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { besidePath } from '../src/run-index/index-path.js';
import { waitForLine } from './dashboard-harness.js';
import type { Bench, BenchResult } from './types.js';

const CLI = fileURLToPath(new URL('../src/cli/codex-telemetry.js', import.meta.url));
/** A first open that has not served by then has failed. */
const SERVE_TIMEOUT_MS = 20 * 60_000;
const RSS_GOAL_MB = 300;

function names(quick: boolean): number {
  const env = process.env.CODEX_BENCH_DASHBOARD_NAMES;
  if (env !== undefined) return Number(env);
  if (process.argv.includes('--dashboard-full')) return 1_000_000;
  return quick ? 20_000 : 100_000;
}

/** The bench's stream: one row for each of `n` names `layer_<i>/grad_norm`. */
export function generate(file: string, n: number): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const fd = fs.openSync(file, 'w');
  let chunk = '';
  for (let i = 0; i < n; i++) {
    chunk += `{"v":1,"ts":${1.76e9 + i},"run_id":"bench","step":${i},"name":"layer_${i}/grad_norm","value":${i % 97},"tags":{"phase":"train"}}\n`;
    if (chunk.length > 8_000_000) {
      fs.writeSync(fd, chunk);
      chunk = '';
    }
  }
  fs.writeSync(fd, chunk);
  fs.closeSync(fd);
}

function peakRssMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

interface Open {
  serveMs: number;
  rssMb: number;
  indexBytes: number;
  sigtermMs: number;
  /** Series listed from a catalog (src/dashboard/catalog/), not held. */
  catalogSeries: number;
  /** Peak RSS of the process that built the index before the open (MB; 0: none built). */
  buildRssMb: number;
  /** `/api/chart` of a name in the middle of the run, and whether it drew the value logged. */
  chartMs: number;
  chartExact: boolean;
}

async function openOnce(runDir: string, count: number): Promise<Open> {
  const started = performance.now();
  const server = spawn(process.execPath, [CLI, 'dashboard', runDir, '--port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
  try {
    const url = await waitForLine(server, /dashboard: (http\S+)/, 'the dashboard', SERVE_TIMEOUT_MS);
    // The URL comes before the runs are read, and /api/ answers wait for that read: serving is the
    // first /api/index answer, not the URL.
    const index = await fetch(`${url}api/index`);
    const indexText = await index.text();
    const serveMs = performance.now() - started;
    const indexBytes = Buffer.byteLength(indexText);
    const { catalog } = JSON.parse(indexText) as {
      catalog?: { series: number; indexedFirstPeakRssMb: number };
    };
    const catalogSeries = catalog?.series ?? 0;
    const buildRssMb = catalog?.indexedFirstPeakRssMb ?? 0;
    const middle = Math.floor(count / 2);
    const chartStarted = performance.now();
    const chart = (await (
      await fetch(`${url}api/chart?metric=${encodeURIComponent(`layer_${middle}/grad_norm`)}&width=600`)
    ).json()) as { series: { step: number[]; y: number[] }[] };
    const chartMs = performance.now() - chartStarted;
    const only = chart.series[0];
    const chartExact =
      chart.series.length === 1 &&
      only?.step.join() === String(middle) &&
      only.y.join() === String(middle % 97);
    const rssMb = peakRssMb(server.pid as number);
    const stopping = performance.now();
    server.kill('SIGTERM');
    await exited;
    return {
      serveMs,
      rssMb,
      indexBytes,
      sigtermMs: performance.now() - stopping,
      catalogSeries,
      buildRssMb,
      chartMs,
      chartExact,
    };
  } finally {
    server.kill('SIGKILL');
  }
}

export const run: Bench = async ({ quick, tmpDir }) => {
  const n = names(quick);
  const runDir = path.join(tmpDir, 'names');
  const stream = path.join(runDir, 'metrics.ndjson');
  generate(stream, n);
  const streamMb = fs.statSync(stream).size / 1e6;
  const first = await openOnce(runDir, n);
  // The first open indexed the stream in the background, cut off by its SIGTERM: build it whole.
  fs.rmSync(besidePath(stream), { force: true });
  const { loadStreamIndex } = await import('../src/run-index/stream-index.js');
  await loadStreamIndex(stream);
  const indexMb = fs.statSync(besidePath(stream)).size / 1e6;
  const second = await openOnce(runDir, n);
  const size = `${n.toLocaleString('en')} names, one row each (${streamMb.toFixed(0)} MB stream)`;
  const results: BenchResult[] = [];
  for (const [label, open] of [
    ['first open, no index', first],
    ['index present', second],
  ] as const) {
    results.push(
      {
        figure: `dashboard server peak RSS, ${label}, ${size}`,
        unit: 'MB',
        ours: open.rssMb,
        baseline: undefined,
        baselineName: 'none (absolute goal)',
        ratio: undefined,
        goal: `<= ${RSS_GOAL_MB} MB`,
        met: open.rssMb <= RSS_GOAL_MB,
      },
      {
        // Its own process (src/run-index/index-build-worker.ts), ended before the catalog opens:
        // while it runs, the machine holds it and the server as it was then.
        figure: `  peak RSS of the index build's own process before the open, ${label}`,
        unit: 'MB',
        ours: open.buildRssMb,
        baseline: undefined,
        baselineName: 'informational',
        ratio: undefined,
        goal: 'informational',
        met: undefined,
      },
      {
        figure: `  start to the first /api/index answer (runs read), ${label}`,
        unit: 'ms',
        ours: open.serveMs,
        baseline: undefined,
        baselineName: 'informational',
        ratio: undefined,
        goal: 'informational',
        met: undefined,
      },
      {
        figure: `  SIGTERM to exit, ${label}`,
        unit: 'ms',
        ours: open.sigtermMs,
        baseline: undefined,
        baselineName: 'none (absolute goal)',
        ratio: undefined,
        goal: '<= 2000 ms',
        met: open.sigtermMs <= 2000,
      },
      {
        figure: `  /api/chart of one name (layer_${Math.floor(n / 2)}), ${label}; the value logged: ${open.chartExact ? 'yes' : 'NO'}`,
        unit: 'ms',
        ours: open.chartMs,
        baseline: undefined,
        baselineName: 'informational',
        ratio: undefined,
        goal: 'the value logged',
        met: open.chartExact,
      },
      {
        figure: `  names listed from a catalog (not held: src/dashboard/catalog/), ${label}`,
        unit: 'names',
        ours: open.catalogSeries,
        baseline: undefined,
        baselineName: 'informational',
        ratio: undefined,
        goal: 'informational',
        met: undefined,
      },
      {
        figure: `  /api/index answer (a page of the charts), ${label}`,
        unit: 'KB',
        ours: open.indexBytes / 1e3,
        baseline: undefined,
        baselineName: 'informational',
        ratio: undefined,
        goal: 'informational',
        met: undefined,
      },
    );
  }
  results.push({
    figure: `  run index of that stream`,
    unit: 'MB',
    ours: indexMb,
    baseline: streamMb,
    baselineName: "the stream's MB",
    ratio: undefined,
    goal: 'informational',
    met: undefined,
  });
  return results;
};
