/**
 * W&B offline exporter: history rows per second for 1e6 rows of 5 scalars (200k quick), written
 * through the exporter including flush, summary, exit record and close, beside our NDJSON exporter
 * on the same rows in the same run (goal: within 2×), and beside writing the same log bytes with
 * plain `fs.writeSync` (the disk-bound ceiling).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Row } from '../src/pipeline/row.js';
import type { RowSink } from '../src/pipeline/row-sink.js';
import { WandbExporter } from '../src/exporters/wandb/wandb-exporter.js';
import { SinkHealth } from '../src/health.js';
import { ndjson, rawWriteRate, seconds } from './exporter-helpers.js';
import type { Bench, BenchResult } from './types.js';

const NAMES = ['loss', 'lr', 'grad_norm', 'throughput', 'tokens_per_s'];
/** Rows handed to the exporter per collection, as the reader does at its high-water mark. */
const ROWS_PER_EXPORT = 4096;
const START = 1.7e9;

const valuesAt = (step: number): number[] => [1 / (step + 1), 3e-4, 0.5, 1200 + step, 2.4e5];
const best = (rates: number[]): number => Math.max(...rates);

async function rowsPerSecond(exporter: RowSink, rows: number): Promise<number> {
  const start = process.hrtime.bigint();
  for (let first = 0; first < rows; first += ROWS_PER_EXPORT) {
    const batch: Row[] = [];
    for (let step = first; step < Math.min(rows, first + ROWS_PER_EXPORT); step++) {
      batch.push({
        stream: 'train',
        phase: 'train',
        step,
        ts: START + step / 100,
        names: NAMES,
        values: valuesAt(step),
      });
    }
    exporter.write(batch);
    // Let the background writes run, as between a real reader's collections.
    await new Promise((resolve) => setImmediate(resolve));
  }
  await exporter.close({ exitCode: 0 });
  return rows / seconds(start);
}

function wandb(dir: string): WandbExporter {
  return new WandbExporter({
    dir,
    runId: 'bench001',
    startTime: START,
    health: new SinkHealth(() => undefined),
  });
}

export const run: Bench = async ({ quick, tmpDir }) => {
  const rows = quick ? 200_000 : 1_000_000;
  const rounds = 2;
  // Warm both paths so neither is measured while the JIT is still compiling it.
  await rowsPerSecond(wandb(path.join(tmpDir, 'wandb-warm')), 20_000);
  await rowsPerSecond(ndjson(path.join(tmpDir, 'warm.ndjson')), 20_000);
  const ours: number[] = [];
  const theirs: number[] = [];
  const logs: string[] = [];
  for (let round = 0; round < rounds; round++) {
    // Interleaved, so a noisy moment on the machine does not favour one side.
    const exporter = wandb(path.join(tmpDir, `wandb${round}`));
    logs.push(path.join(exporter.runDir, 'run-bench001.wandb'));
    ours.push(await rowsPerSecond(exporter, rows));
    theirs.push(await rowsPerSecond(ndjson(path.join(tmpDir, `bench${round}.ndjson`)), rows));
  }
  const wandbRate = best(ours);
  const ndjsonRate = best(theirs);
  const written = fs.readFileSync(logs[0] as string);
  const rawRate = best([0, 1].map((i) => rawWriteRate(written, path.join(tmpDir, `raw${i}.wandb`), rows)));
  const bytesPerRow = written.length / rows;

  const results: BenchResult[] = [
    {
      figure: `W&B exporter, ${rows.toLocaleString('en')} history rows of ${NAMES.length} scalars incl. flush and close (${bytesPerRow.toFixed(1)} B/row)`,
      unit: 'rows/s',
      ours: wandbRate,
      baseline: ndjsonRate,
      baselineName: 'NdjsonExporter on the same rows in the same run',
      ratio: wandbRate / ndjsonRate,
      goal: 'within 2x of NDJSON (ratio >= 0.5)',
      met: wandbRate / ndjsonRate >= 0.5,
    },
    {
      figure: 'W&B exporter vs writing its bytes with fs.writeSync + fsync',
      unit: 'rows/s',
      ours: wandbRate,
      baseline: rawRate,
      baselineName: 'fs.writeSync of the same .wandb bytes (disk-bound ceiling)',
      ratio: wandbRate / rawRate,
      goal: 'informational (encoding cost over raw I/O)',
      met: undefined,
    },
  ];
  return results;
};
