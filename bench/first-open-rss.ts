/**
 * The dashboard's first open of many runs without indexes, for its memory: the server's peak RSS
 * (VmHWM: worker threads are threads of the server, so theirs is in it) while it reads every stream
 * and then builds their indexes, and the peak of the server and its child processes together (the
 * first open of very many names builds its index in a child process: index-build-worker.ts). Not
 * a bench run by run-all.ts: the set takes gigabytes, so it is generated once into a folder kept
 * between runs, and each build (this one, a baseline's) is measured on it in turn in the same
 * session.
 *
 *   node dist/bench/first-open-rss.js generate DIR RUNS STEPS
 *   node dist/bench/first-open-rss.js measure DIR [CLI]
 *
 * `generate` writes DIR/run-NNN/.codex/metrics.ndjson as dashboard-many-runs.bench.ts does;
 * `measure` removes every index, starts `node CLI dashboard DIR --port 0` (CLI: this build's by
 * default, or a baseline's dist/src/cli/codex-telemetry.js), samples VmRSS and Threads every
 * 100 ms, waits for the first /api/index answer (it waits for the first read), then until every
 * index is whole, and prints one JSON line.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { besidePath } from '../src/run-index/index-path.js';
import { CLI, generate, indexWhole } from './dashboard-harness.js';

/** A first open that has not indexed every run by then has failed. */
const INDEX_TIMEOUT_MS = 30 * 60_000;

function streamsOf(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .sort()
    .map((run) => path.join(dir, run, '.codex', 'metrics.ndjson'))
    .filter((stream) => fs.existsSync(stream));
}

const load = (): string =>
  os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

/** The processes whose parent is `pid` (its index build, if one runs). */
function childrenOf(pid: number): number[] {
  try {
    const listed = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
    return listed === '' ? [] : listed.split(' ').map(Number);
  } catch {
    return [];
  }
}

function statusField(pid: number, field: string): number {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  } catch {
    // The server is gone: nothing more to sample.
    return 0;
  }
}

async function measure(dir: string, cli: string): Promise<void> {
  const streams = streamsOf(dir);
  if (streams.length === 0) throw new Error(`no run folders with .codex/metrics.ndjson under ${dir}`);
  for (const stream of streams) fs.rmSync(besidePath(stream), { force: true });
  const loadBefore = load();
  const started = performance.now();
  const server = spawn(process.execPath, [cli, 'dashboard', dir, '--port', '0'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const pid = server.pid as number;
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      server.stdout.on('data', (chunk: Buffer) => {
        out += String(chunk);
        const found = /dashboard: (http\S+)/.exec(out);
        if (found !== null) resolve(found[1] as string);
      });
      server.on('exit', (code) => reject(new Error(`the dashboard exited (${code}) before listening`)));
    });
    let phase: 'read' | 'index' = 'read';
    const peak = { read: 0, index: 0 };
    const threads = { read: 0, index: 0 };
    let peakWithChildren = 0;
    const sample = (): void => {
      const rss = statusField(pid, 'VmRSS') / 1024;
      const children = childrenOf(pid).reduce((sum, child) => sum + statusField(child, 'VmRSS') / 1024, 0);
      peakWithChildren = Math.max(peakWithChildren, rss + children);
      peak[phase] = Math.max(peak[phase], rss);
      threads[phase] = Math.max(threads[phase], statusField(pid, 'Threads'));
    };
    const timer = setInterval(sample, 100);
    const index = (await (await fetch(`${url}api/index`)).json()) as { runs: unknown[]; buckets?: unknown };
    const firstAnswerMs = performance.now() - started;
    sample();
    phase = 'index';
    const pending = new Set(streams);
    while (pending.size > 0 && performance.now() - started < INDEX_TIMEOUT_MS) {
      for (const stream of pending)
        if (indexWhole(besidePath(stream), fs.statSync(stream).size)) pending.delete(stream);
      await new Promise((r) => setTimeout(r, 500));
    }
    sample();
    clearInterval(timer);
    console.log(
      JSON.stringify({
        cli,
        runs: index.runs.length,
        firstAnswerMs: Math.round(firstAnswerMs),
        indexesWholeMs: Math.round(performance.now() - started),
        indexesMissing: pending.size,
        peakRssMb: Math.round(statusField(pid, 'VmHWM') / 1024),
        peakRssReadMb: Math.round(peak.read),
        peakRssIndexMb: Math.round(peak.index),
        // Sampled every 100 ms: the server and its children at once.
        peakRssWithChildrenMb: Math.round(peakWithChildren),
        threadsRead: threads.read,
        threadsIndex: threads.index,
        buckets: index.buckets,
        loadBefore,
        loadAfter: load(),
      }),
    );
  } finally {
    server.kill('SIGTERM');
  }
}

const [command, dir, a, b] = process.argv.slice(2);
if (command === 'generate' && dir !== undefined) {
  const runs = Number(a);
  const steps = Number(b);
  if (!Number.isInteger(runs) || runs < 1 || !Number.isInteger(steps) || steps < 1)
    throw new Error('usage: first-open-rss.js generate DIR RUNS STEPS (positive integers)');
  for (let r = 0; r < runs; r++) {
    const runId = `run-${String(r).padStart(3, '0')}`;
    generate(path.join(dir, runId, '.codex', 'metrics.ndjson'), steps, runId);
  }
} else if (command === 'measure' && dir !== undefined) {
  await measure(dir, a ?? CLI);
} else {
  console.log(
    'usage: node dist/bench/first-open-rss.js generate DIR RUNS STEPS\n       node dist/bench/first-open-rss.js measure DIR [CLI]',
  );
}
