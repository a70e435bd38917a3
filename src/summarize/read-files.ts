/**
 * Reads the input files into one RunSummary: in this thread for small inputs, otherwise in a pool
 * of worker threads, each big plain file cut into line-aligned byte ranges so that every core
 * parses (gzip streams cannot be split and go whole to one worker). Parts merge in reading order.
 */
import fs from 'node:fs';
import { readMetricRecords } from '../ndjson/read-metric-records.js';
import { splitPoints } from '../ndjson/split-points.js';
import { defaultJobs, runPool, workersAvailable } from '../ndjson/worker-pool.js';
import { SummaryAggregator } from './aggregator.js';
import { mergeSummaries } from './merge.js';
import type { RunSummary } from './summary-types.js';

/** Below this many plain bytes, starting workers costs more than it saves. */
export const PARALLEL_MIN_BYTES = 48 << 20;

export interface ReadTask {
  index: number;
  path: string;
  start?: number;
  end?: number;
  /** Slot in the shared progress array. */
  slot: number;
  /** The longest line read (./ndjson/line/max-line.ts); default CODEX_MAX_LINE_BYTES, else 1 MiB. */
  maxLineBytes?: number;
}

export interface ReadFilesOptions {
  /** Worker threads; 1 reads in this thread. Default: available cores. */
  jobs?: number;
  /** Bytes consumed so far out of the total (compressed bytes for gzip). */
  onProgress?: (done: number, total: number) => void;
  /** Plain bytes from which files are split across workers; default PARALLEL_MIN_BYTES. */
  parallelMinBytes?: number;
  /** Told how the read was planned: the ranges to read and how many worker threads read them (0: this thread). */
  onPlan?: (plan: { tasks: number; workers: number }) => void;
  /** The longest line read; default CODEX_MAX_LINE_BYTES, else 1 MiB. */
  maxLineBytes?: number;
}

const WORKER_URL = new URL('./summarize-worker.js', import.meta.url);

/** Reads one task with a fresh aggregator (used by workers and by tests of the split logic). */
export async function readTask(task: ReadTask, onBytes?: (bytes: number) => void): Promise<RunSummary> {
  const aggregator = new SummaryAggregator();
  aggregator.file = task.path;
  const stats = await readMetricRecords(task.path, aggregator, aggregator.tables, {
    start: task.start,
    end: task.end,
    maxLineBytes: task.maxLineBytes,
    onProgress: onBytes,
  });
  const summary = aggregator.toSummary();
  summary.files = [task.path];
  summary.rank = rankOfFile(task.path);
  summary.lines = stats.lines;
  summary.bytes = stats.bytes;
  summary.malformed = stats.malformed;
  return summary;
}

/** Rank N > 0 writes `metrics.rankN.ndjson` (and its segments `metrics.rankN.000001.ndjson`). */
export function rankOfFile(file: string): number {
  const match = /\.rank(\d+)(?:\.\d{6,})?\.ndjson(?:\.gz)?$/.exec(file);
  return match ? Number(match[1]) : 0;
}

export async function readFiles(
  files: readonly string[],
  options: ReadFilesOptions = {},
): Promise<RunSummary> {
  const jobs = options.jobs ?? defaultJobs();
  const minBytes = options.parallelMinBytes ?? PARALLEL_MIN_BYTES;
  const sizes = files.map((file) => fs.statSync(file).size);
  const total = sizes.reduce((a, b) => a + b, 0);
  const plainBytes = files.reduce(
    (sum, file, i) => sum + (file.endsWith('.gz') ? 0 : (sizes[i] as number)),
    0,
  );
  const tasks: ReadTask[] = [];
  files.forEach((path, i) => {
    const size = sizes[i] as number;
    const parts = path.endsWith('.gz') || size < minBytes ? 1 : jobs;
    const cuts = parts === 1 ? [0, size] : splitPoints(path, size, parts);
    for (let c = 0; c + 1 < cuts.length; c++)
      tasks.push({
        index: tasks.length,
        path,
        start: cuts[c],
        end: cuts[c + 1],
        slot: tasks.length,
        maxLineBytes: options.maxLineBytes,
      });
  });
  const parallel = jobs > 1 && tasks.length > 1 && plainBytes >= minBytes && workersAvailable(WORKER_URL);
  options.onPlan?.({ tasks: tasks.length, workers: parallel ? Math.min(jobs, tasks.length) : 0 });
  const parts = parallel
    ? await inWorkers(tasks, jobs, total, options)
    : await inThread(tasks, total, options);
  return mergeSummaries(shiftLineNumbers(tasks, parts));
}

async function inThread(tasks: ReadTask[], total: number, options: ReadFilesOptions): Promise<RunSummary[]> {
  const parts: RunSummary[] = [];
  let before = 0;
  for (const task of tasks) {
    parts.push(await readTask(task, (bytes) => options.onProgress?.(before + bytes, total)));
    before += (task.end ?? 0) - (task.start ?? 0);
  }
  return parts;
}

async function inWorkers(
  tasks: ReadTask[],
  jobs: number,
  total: number,
  options: ReadFilesOptions,
): Promise<RunSummary[]> {
  // Each task publishes its KiB read here; this thread sums them for the progress line.
  const progress = new Int32Array(new SharedArrayBuffer(4 * tasks.length));
  const timer = options.onProgress
    ? setInterval(() => {
        let kib = 0;
        for (let i = 0; i < progress.length; i++) kib += Atomics.load(progress, i);
        options.onProgress?.(Math.min(total, kib * 1024), total);
      }, 100)
    : undefined;
  try {
    return await runPool<ReadTask, RunSummary>(WORKER_URL, tasks, jobs, { progress });
  } finally {
    if (timer) clearInterval(timer);
  }
}

/** Workers number lines from the start of their range: add the lines of earlier ranges of the same file. */
function shiftLineNumbers(tasks: readonly ReadTask[], parts: RunSummary[]): RunSummary[] {
  const linesBefore = new Map<string, number>();
  return parts.map((part, i) => {
    const path = (tasks[i] as ReadTask).path;
    const base = linesBefore.get(path) ?? 0;
    linesBefore.set(path, base + part.lines);
    if (base === 0) return part;
    return {
      ...part,
      malformedReports: part.malformedReports.map((r) =>
        r.file === path ? { ...r, line: r.line + base } : r,
      ),
    };
  });
}
