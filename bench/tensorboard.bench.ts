/**
 * TensorBoard exporter: scalars per second for 1e6 scalars written through the exporter,
 * including flush and close, beside our NDJSON exporter on the same rows in the same run, and
 * beside tensorboardX's reference rate on this kind of machine (17,000 scalars/s, measured by
 * the team with tensorboardX 2.6 add_scalar; Python cannot be installed from PyPI here to rerun it).
 */
import path from 'node:path';
import { NdjsonExporter } from '../src/exporters/ndjson/ndjson-exporter.js';
import { TensorBoardExporter } from '../src/exporters/tensorboard/tensorboard-exporter.js';
import type { FileSinkExporter } from '../src/exporters/file-sink.js';
import { StepProducer } from '../src/instruments/step-producer.js';
import { SinkHealth } from '../src/pipeline/sink-health.js';
import type { Bench } from './types.js';

const TENSORBOARDX_SCALARS_PER_S = 17_000;
const NAMES = ['loss', 'lr', 'grad_norm', 'throughput', 'tokens_per_s'];

async function scalarsPerSecond(exporter: FileSinkExporter, scalars: number): Promise<number> {
  const producer = new StepProducer();
  const steps = Math.ceil(scalars / NAMES.length);
  const batch = 4096;
  const start = process.hrtime.bigint();
  for (let first = 0; first < steps; first += batch) {
    for (let step = first; step < Math.min(steps, first + batch); step++) {
      producer.push({
        phase: 'train',
        step,
        ts: 1.7e9 + step / 100,
        names: NAMES,
        values: [1 / (step + 1), 3e-4, 0.5, 1200 + step, 2.4e5],
      });
    }
    exporter.export(producer.drainSync().resourceMetrics, () => undefined);
    // Let the background writes run, as the reader's timer would.
    await new Promise((resolve) => setImmediate(resolve));
  }
  await exporter.shutdown();
  return (steps * NAMES.length) / (Number(process.hrtime.bigint() - start) / 1e9);
}

export const run: Bench = async ({ quick, tmpDir }) => {
  const scalars = quick ? 200_000 : 1_000_000;
  const health = new SinkHealth(() => undefined);
  const tensorboard = await scalarsPerSecond(
    new TensorBoardExporter({
      logdir: path.join(tmpDir, 'tb'),
      runName: 'bench',
      health,
      flushIntervalMs: 0,
    }),
    scalars,
  );
  const ndjson = await scalarsPerSecond(
    new NdjsonExporter({
      path: path.join(tmpDir, 'bench.ndjson'),
      runId: 'bench001',
      phases: ['train'],
      health,
      flushIntervalMs: 0,
    }),
    scalars,
  );
  return [
    {
      figure: `TensorBoard exporter, ${scalars.toLocaleString('en')} scalars incl. flush and close`,
      unit: 'scalars/s',
      ours: tensorboard,
      baseline: TENSORBOARDX_SCALARS_PER_S,
      baselineName: 'tensorboardX add_scalar, reference rate on this machine kind (not rerun: no PyPI)',
      ratio: tensorboard / TENSORBOARDX_SCALARS_PER_S,
      goal: '>= 30x tensorboardX',
      met: tensorboard / TENSORBOARDX_SCALARS_PER_S >= 30,
    },
    {
      figure: 'TensorBoard exporter vs our NDJSON exporter, same rows',
      unit: 'scalars/s',
      ours: tensorboard,
      baseline: ndjson,
      baselineName: 'NdjsonExporter in the same run',
      ratio: tensorboard / ndjson,
      goal: 'within 2x of NDJSON (ratio >= 0.5)',
      met: tensorboard / ndjson >= 0.5,
    },
  ];
};
