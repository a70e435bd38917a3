/**
 * NDJSON hot path: µs per `log()` with 5 scalars, end to end (bytes on disk after shutdown), and the
 * exporter's own write path, each beside pino writing the same records to a sync destination in
 * the same run.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { startTelemetry } from '../src/telemetry.js';
import { NdjsonExporter } from '../src/exporters/ndjson/ndjson-exporter.js';
import type { Row } from '../src/pipeline/row.js';
import { SinkHealth } from '../src/health.js';
import { besidePath } from '../src/run-index/index-path.js';
import type { Bench, BenchResult } from './types.js';

const NAMES = ['loss', 'lr', 'throughput', 'grad_norm', 'tokens_per_s'] as const;

function scalars(step: number): Record<string, number> {
  return {
    loss: 1 / (step + 1),
    lr: 3e-4 * (1 - step * 1e-7),
    throughput: 1200.5 + (step % 17),
    grad_norm: 0.73,
    tokens_per_s: 240_000 + step,
  };
}

/** log() end to end: wall-clock µs, and this process's CPU µs (all its threads) over the same span. */
async function ours(file: string, steps: number): Promise<{ wallUs: number; cpuUs: number }> {
  const telemetry = await startTelemetry(
    { metricsOut: file, systemMetricsInterval: 0, installExitHandlers: false, flushInterval: 0.2 },
    { env: {} },
  );
  const start = process.hrtime.bigint();
  const cpuStart = process.cpuUsage();
  for (let step = 0; step < steps; step++) {
    telemetry.log(scalars(step), { step });
    // A training loop yields to the event loop between steps (awaiting the GPU, a data loader);
    // yield every 1000 steps so background writes can proceed, as they would there.
    if (step % 1000 === 999) await new Promise((resolve) => setImmediate(resolve));
  }
  await telemetry.shutdown();
  return { wallUs: Number(process.hrtime.bigint() - start) / 1e3, cpuUs: cpuSince(cpuStart) };
}

function cpuSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return used.user + used.system;
}

function pinoBaseline(file: string, steps: number, runId: string): number {
  const destination = pino.destination({ dest: file, sync: true });
  const logger = pino({ base: null, timestamp: false }, destination);
  const start = process.hrtime.bigint();
  for (let step = 0; step < steps; step++) {
    const values = scalars(step);
    const ts = Date.now() / 1000;
    for (const name of NAMES)
      logger.info({ v: 1, ts, run_id: runId, step, name, value: values[name], tags: { phase: 'train' } });
  }
  destination.flushSync();
  destination.end();
  return Number(process.hrtime.bigint() - start) / 1e3;
}

/**
 * The exporter's write path with the same work inside the timed region as pino's loop: computing the
 * step's values and building the records (rows here, log objects there), encoding, and handing the
 * bytes to the kernel.
 */
async function exporterOnly(file: string, steps: number, index = true): Promise<number> {
  const health = new SinkHealth(() => undefined);
  const exporter = new NdjsonExporter({
    path: file,
    runId: 'bench001',
    streams: ['train'],
    health,
    index,
  });
  const batch = 4096;
  const start = process.hrtime.bigint();
  for (let first = 0; first < steps; first += batch) {
    const rows: Row[] = [];
    for (let step = first; step < Math.min(steps, first + batch); step++) {
      const values = scalars(step);
      rows.push({
        stream: 'train',
        phase: 'train',
        step,
        ts: 1.7e9 + step / 1000,
        names: [...NAMES],
        values: NAMES.map((n) => values[n]),
      });
    }
    exporter.write(rows);
  }
  // Bytes handed to the kernel, as pino's sync destination does; the fsync at close is left out
  // of both sides.
  await exporter.flush();
  const elapsed = process.hrtime.bigint() - start;
  await exporter.close();
  return Number(elapsed) / 1e3;
}

/**
 * The run index's cost, robust to a shared machine's load: two exporters, one keeping the index and
 * one not, take the same batches of rows in turn (which goes first alternating), each batch written
 * and flushed; the median of the pairs' differences is the index's time per log(). log() end to
 * end, the figure it is a share of, is the median of runs spread between the pairs. Times are this
 * process's CPU time (all its threads, user + system), which other processes' load does not add
 * to, as it adds to wall-clock time; the pairs and the median take out what it still moves (caches,
 * clock frequency, GC falling on one side).
 */
async function runIndexCost(
  tmpDir: string,
  steps: number,
  logRuns: number,
): Promise<{ deltaUs: number[]; logUs: number[]; load: number[]; indexBytes: number; streamBytes: number }> {
  const load = os.loadavg();
  const logFile = path.join(tmpDir, 'index-cost-log.ndjson');
  const files = { on: path.join(tmpDir, 'index-on.ndjson'), off: path.join(tmpDir, 'index-off.ndjson') };
  const health = new SinkHealth(() => undefined);
  const open = (file: string, index: boolean): NdjsonExporter =>
    new NdjsonExporter({ path: file, runId: 'bench001', streams: ['train'], health, index });
  const on = open(files.on, true);
  const off = open(files.off, false);
  const batchSteps = 2048;
  const pairs = Math.ceil(steps / batchSteps);
  const logAt = new Set(Array.from({ length: logRuns }, (_, i) => Math.floor((i * pairs) / logRuns)));
  const deltaUs: number[] = [];
  const logUs: number[] = [];
  for (let pair = 0; pair < pairs; pair++) {
    if (logAt.has(pair)) {
      for (const file of [logFile, besidePath(logFile)]) fs.rmSync(file, { force: true });
      logUs.push((await ours(logFile, steps)).cpuUs / steps);
    }
    const rows = stepRows(pair * batchSteps, batchSteps);
    const took = new Map<NdjsonExporter, number>();
    for (const exporter of pair % 2 === 0 ? [on, off] : [off, on]) {
      const start = process.cpuUsage();
      exporter.write(rows);
      await exporter.flush();
      took.set(exporter, cpuSince(start));
    }
    deltaUs.push(((took.get(on) as number) - (took.get(off) as number)) / batchSteps);
  }
  await on.close();
  await off.close();
  const indexBytes = fs.statSync(besidePath(files.on)).size;
  const streamBytes = fs.statSync(files.on).size;
  for (const file of [logFile, besidePath(logFile), files.on, files.off, besidePath(files.on)])
    fs.rmSync(file, { force: true });
  return { deltaUs, logUs, load, indexBytes, streamBytes };
}

function stepRows(first: number, count: number): Row[] {
  const rows: Row[] = [];
  for (let step = first; step < first + count; step++) {
    const values = scalars(step);
    rows.push({
      stream: 'train',
      phase: 'train',
      step,
      ts: 1.7e9 + step / 1000,
      names: [...NAMES],
      values: NAMES.map((n) => values[n]),
    });
  }
  return rows;
}

function median(values: readonly number[]): number {
  return quantile(values, 0.5);
}

/** The q-quantile, interpolated between the two nearest values. */
function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (sorted.length - 1) * q;
  const low = Math.floor(at);
  const high = Math.min(sorted.length - 1, low + 1);
  return (sorted[low] as number) + ((sorted[high] as number) - (sorted[low] as number)) * (at - low);
}

export const run: Bench = async ({ quick, tmpDir }) => {
  const steps = quick ? 20_000 : 200_000;
  const lines = steps * NAMES.length;
  const oursFile = path.join(tmpDir, 'ours.ndjson');
  const pinoFile = path.join(tmpDir, 'pino.ndjson');
  const exporterFile = path.join(tmpDir, 'exporter.ndjson');
  // Warm up both paths once so JIT tiers are comparable.
  await ours(oursFile, 5000);
  pinoBaseline(pinoFile, 5000, 'bench001');
  const oursUs = (await ours(oursFile, steps)).wallUs;
  const pinoUs = pinoBaseline(pinoFile, steps, 'bench001');
  const exporterUs = await exporterOnly(exporterFile, steps);
  const indexCost = await runIndexCost(tmpDir, steps, quick ? 3 : 5);
  const { indexBytes, streamBytes } = indexCost;
  for (const file of [oursFile, pinoFile, exporterFile, besidePath(exporterFile)])
    fs.rmSync(file, { force: true });
  const results: BenchResult[] = [];
  const perLogOurs = oursUs / steps;
  const perLogPino = pinoUs / steps;
  results.push({
    figure: 'NDJSON log() with 5 scalars, end to end to disk',
    unit: 'µs/log',
    ours: perLogOurs,
    baseline: perLogPino,
    baselineName: 'pino 10, sync destination, 5 lines per log',
    ratio: perLogPino / perLogOurs,
    goal: '>= 1x pino',
    met: perLogPino / perLogOurs >= 1,
  });
  const exporterRate = lines / (exporterUs / 1e6);
  const pinoRate = lines / (pinoUs / 1e6);
  results.push({
    figure:
      "NDJSON exporter write path (build rows + encode + write to kernel; the same work as pino's loop)",
    unit: 'lines/s',
    ours: exporterRate,
    baseline: pinoRate,
    baselineName: 'pino 10, sync destination',
    ratio: exporterRate / pinoRate,
    goal: '>= 4x pino',
    met: exporterRate / pinoRate >= 4,
  });
  const indexUsPerLog = median(indexCost.deltaUs);
  const logUsPerLog = median(indexCost.logUs);
  const indexShare = indexUsPerLog / logUsPerLog;
  const quartiles = [0.25, 0.75].map((q) => quantile(indexCost.deltaUs, q) / logUsPerLog);
  results.push({
    figure: 'run index: added write-path time per log() (5 scalars), as a share of log() end to end',
    unit: '%',
    ours: 100 * indexShare,
    baseline: undefined,
    baselineName:
      `CPU time: log() end to end ${logUsPerLog.toFixed(2)} µs (median of ${indexCost.logUs.length} runs); the index adds ` +
      `${indexUsPerLog.toFixed(3)} µs (median of ${indexCost.deltaUs.length} write+flush pairs with and without it, ` +
      `alternating; quartiles ${quartiles.map((q) => (100 * q).toFixed(1)).join('–')} %); ` +
      `load average ${indexCost.load.map((l) => l.toFixed(2)).join(' ')}`,
    ratio: undefined,
    goal: '<= 10% of log()',
    met: indexShare <= 0.1,
  });
  results.push({
    figure: 'run index: bytes per million rows (dense, 5 scalars a step)',
    unit: 'bytes',
    ours: (indexBytes / lines) * 1e6,
    baseline: (streamBytes / lines) * 1e6,
    baselineName: `the stream's bytes per million rows (index = ${((100 * indexBytes) / streamBytes).toFixed(2)}% of it)`,
    ratio: undefined,
    goal: '<= 5% of the stream',
    met: indexBytes <= 0.05 * streamBytes,
  });
  return results;
};
