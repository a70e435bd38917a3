/**
 * Every GPU key, read from the fake libnvidia-ml, reaches every sink with the value the library
 * answered: the NDJSON snapshot line, TensorBoard's `system` run, the W&B StatsRecord (under
 * W&B's own names where it has them) and a real Prometheus scraping /metrics.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, expect, test } from 'vitest';
import { readEventFile } from '../../src/exporters/tensorboard/event-file-reader.js';
import { wandbStatsKey } from '../../src/exporters/wandb/stats-keys.js';
import { readWandbLog } from '../../src/exporters/wandb/wandb-log-reader.js';
import { GPU_KEYS } from '../../src/system/keys/gpu-keys.js';
import { startTelemetry, type Telemetry } from '../../src/telemetry.js';
import { FAKE_NVML_KNOBS, fakeNvmlOrSkip } from '../fixtures/nvml/build.js';
import { expectedGpuKeys } from '../fixtures/nvml/expected.js';
import { PrometheusServer, requireBinary } from '../helpers/prometheus-server.js';

const GPUS = 2;
const OURS = 1.5 * 2 ** 30;

let library: string | undefined;
const cleanups: Array<() => Promise<void> | void> = [];

beforeAll(() => {
  library = fakeNvmlOrSkip();
});

afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
  for (const knob of FAKE_NVML_KNOBS) delete process.env[knob];
});

function expectedAll(): Record<string, number> {
  return Object.assign({}, ...Array.from({ length: GPUS }, (_, i) => expectedGpuKeys(i, i === 0 ? OURS : 0)));
}

function walk(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? walk(full) : [full];
  });
}

/** Prometheus's name for an OTel instrument as the JS exporter writes it (dots to _, counters + _total). */
function promSelector(spec: NonNullable<(typeof GPU_KEYS)[number]['instrument']>, gpu: number): string {
  const name = spec.name.replace(/\./g, '_') + (spec.kind === 'counter' ? '_total' : '');
  const labels = { hw_id: String(gpu), ...spec.attributes };
  const matchers = Object.entries(labels).map(
    ([key, value]) => `${key.replace(/\./g, '_')}="${String(value)}"`,
  );
  return `${name}{${matchers.join(',')}}`;
}

test('every GPU key the fake library answers reaches NDJSON, TensorBoard, W&B and a real Prometheus unchanged', async (context) => {
  if (!library) return context.skip();
  const prometheusBin = requireBinary('prometheus', context.skip);
  process.env.FAKE_NVML_GPU_COUNT = String(GPUS);
  // Our own process holds 1.5 GiB on GPU 0; another process's memory does not count.
  process.env.FAKE_NVML_PROCESSES = `0:${process.pid}:${OURS},0:1:999,1:1:5`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-gpu-keys-'));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  const warnings: string[] = [];
  const infoLines: string[] = [];
  const telemetry: Telemetry = await startTelemetry(
    {
      runId: 'gpukeys1',
      outDir: dir,
      tensorboard: true,
      wandbEnable: true,
      prometheus: true,
      prometheusPort: 0,
      systemMetricsInterval: 0.1,
      monitoringEnableGpu: true,
      nvmlLibrary: library,
      installExitHandlers: false,
    },
    { env: {}, warn: (m) => warnings.push(m), info: (l) => infoLines.push(l) },
  );
  let stopped = false;
  cleanups.push(() => (stopped ? undefined : telemetry.shutdown()));
  const expected = expectedAll();

  const port = Number(/:(\d+)\/metrics$/.exec(infoLines.find((l) => l.startsWith('metrics: ')) ?? '')?.[1]);
  const prometheus = await PrometheusServer.start({
    binary: prometheusBin,
    dir,
    targets: [`127.0.0.1:${port}`],
    scrapeIntervalSeconds: 1,
  });
  cleanups.push(() => prometheus.stop());
  await prometheus.waitFor('hw_energy_total', (s) => s.length === GPUS);
  let exported = 0;
  for (let gpu = 0; gpu < GPUS; gpu++) {
    for (const entry of GPU_KEYS) {
      const value = expected[`gpu_${gpu}_${entry.key}`];
      if (!entry.instrument || value === undefined) continue;
      const found = await prometheus.query(promSelector(entry.instrument, gpu));
      expect(found, `${entry.key} on GPU ${gpu}`).toHaveLength(1);
      expect(found[0].value, `${entry.key} on GPU ${gpu}`).toBeCloseTo(
        value * (entry.instrument.scale ?? 1),
        6,
      );
      exported++;
    }
  }
  expect(exported).toBeGreaterThan(GPUS * 30);

  await telemetry.shutdown();
  stopped = true;
  expect(warnings).toEqual([]);

  // NDJSON: every system snapshot line holds exactly the GPU keys the library answers.
  const lines = fs
    .readFileSync(telemetry.paths.metricsOut!, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { name: string; values: Record<string, number> });
  const snapshots = lines.filter((line) => line.name === 'system');
  expect(snapshots.length).toBeGreaterThan(0);
  for (const snapshot of snapshots) {
    const gpuValues = Object.fromEntries(
      Object.entries(snapshot.values).filter(([key]) => key.startsWith('gpu_')),
    );
    expect(gpuValues).toEqual(expected);
  }

  // TensorBoard: the system run charts each key as a float32 scalar.
  const eventFiles = walk(telemetry.paths.tensorboardDir!).filter(
    (file) => file.includes(`${path.sep}system${path.sep}`) && file.includes('tfevents'),
  );
  expect(eventFiles.length).toBeGreaterThan(0);
  const charted = new Map<string, number>();
  for (const file of eventFiles) {
    for (const event of readEventFile(file).events) {
      for (const value of event.values ?? []) {
        charted.set(value.tag, value.simpleValue ?? value.tensor?.floatVal[0] ?? NaN);
      }
    }
  }
  for (const [key, value] of Object.entries(expected)) expect(charted.get(key), key).toBe(Math.fround(value));

  // W&B: StatsRecords carry W&B's own names (gpu.0.powerWatts) where W&B has one, ours elsewhere.
  const runFile = walk(telemetry.paths.wandbRunDir!).find((file) => file.endsWith('.wandb'))!;
  const stats = readWandbLog(runFile)
    .records.map((r) => r.record.stats)
    .filter((s) => s !== undefined);
  expect(stats.length).toBeGreaterThan(0);
  const last = new Map(stats.at(-1)!.item!.map((item) => [item.key, JSON.parse(item.value_json!) as number]));
  expect(last.get('gpu.0.powerWatts')).toBe(100);
  expect(last.get('gpu.1.memoryClock')).toBe(2601);
  for (const [key, value] of Object.entries(expected)) {
    const mapped = wandbStatsKey(key);
    expect(last.get(mapped.key), `${key} as ${mapped.key}`).toBeCloseTo(value * mapped.scale, 9);
  }
}, 120_000);
