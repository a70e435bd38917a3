/**
 * NDJSON hot path: µs per `log()` with 5 scalars, end to end (bytes on disk after shutdown), and the
 * exporter's own write path, each beside pino writing the same records to a sync destination in
 * the same run.
 */
import fs from 'node:fs';
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

async function ours(file: string, steps: number): Promise<number> {
  const telemetry = await startTelemetry(
    { metricsOut: file, systemMetricsInterval: 0, installExitHandlers: false, flushInterval: 0.2 },
    { env: {} },
  );
  const start = process.hrtime.bigint();
  for (let step = 0; step < steps; step++) {
    telemetry.log(scalars(step), { step });
    // A training loop yields to the event loop between steps (awaiting the GPU, a data loader);
    // yield every 1000 steps so background writes can proceed, as they would there.
    if (step % 1000 === 999) await new Promise((resolve) => setImmediate(resolve));
  }
  await telemetry.shutdown();
  return Number(process.hrtime.bigint() - start) / 1e3;
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

export const run: Bench = async ({ quick, tmpDir }) => {
  const steps = quick ? 20_000 : 200_000;
  const lines = steps * NAMES.length;
  const oursFile = path.join(tmpDir, 'ours.ndjson');
  const pinoFile = path.join(tmpDir, 'pino.ndjson');
  const exporterFile = path.join(tmpDir, 'exporter.ndjson');
  // Warm up both paths once so JIT tiers are comparable.
  await ours(oursFile, 5000);
  pinoBaseline(pinoFile, 5000, 'bench001');
  const oursUs = await ours(oursFile, steps);
  const pinoUs = pinoBaseline(pinoFile, steps, 'bench001');
  const exporterUs = await exporterOnly(exporterFile, steps);
  // The run index's cost: the same write path without it, best of three each, alternated.
  const noIndexFile = path.join(tmpDir, 'exporter-no-index.ndjson');
  const withIndex: number[] = [];
  const withoutIndex: number[] = [];
  for (let i = 0; i < 3; i++) {
    for (const file of [exporterFile, noIndexFile]) fs.rmSync(file, { force: true });
    fs.rmSync(besidePath(exporterFile), { force: true });
    withoutIndex.push(await exporterOnly(noIndexFile, steps, false));
    withIndex.push(await exporterOnly(exporterFile, steps, true));
  }
  const indexBytes = fs.statSync(besidePath(exporterFile)).size;
  const streamBytes = fs.statSync(exporterFile).size;
  for (const file of [oursFile, pinoFile, exporterFile, noIndexFile, besidePath(exporterFile)])
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
  const indexUsPerLog = (Math.min(...withIndex) - Math.min(...withoutIndex)) / steps;
  results.push({
    figure: 'run index: added write-path time per log() (5 scalars), as a share of log() end to end',
    unit: '%',
    ours: (100 * indexUsPerLog) / perLogOurs,
    baseline: perLogOurs,
    baselineName: `log() end to end, µs (index adds ${indexUsPerLog.toFixed(3)} µs: write path best of 3, with vs without)`,
    ratio: undefined,
    goal: '<= 10% of log()',
    met: (100 * indexUsPerLog) / perLogOurs <= 10,
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
