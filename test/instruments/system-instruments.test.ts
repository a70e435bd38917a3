import os from 'node:os';
import { MeterProvider, MetricReader, type MetricData } from '@opentelemetry/sdk-metrics';
import { afterEach, beforeAll, expect, test } from 'vitest';
import { registerSystemInstruments } from '../../src/instruments/system-instruments.js';
import { SinkHealth } from '../../src/health.js';
import { SystemSampler, type SystemSample } from '../../src/system/system-sampler.js';
import { GPU_KEYS } from '../../src/system/keys/gpu-keys.js';
import { fakeNvmlOrSkip } from '../fixtures/nvml/build.js';
import { expectedGpuKeys } from '../fixtures/nvml/expected.js';

/** Collects only when asked, so a test sees exactly what one scrape would. */
class OnDemandReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

let library: string | undefined;
const cleanups: Array<() => Promise<void> | void> = [];

beforeAll(() => {
  library = fakeNvmlOrSkip();
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setUp(gpu: boolean): Promise<{
  sampler: SystemSampler;
  counted: { reads: number };
  collect: () => Promise<Map<string, MetricData>>;
  unregister: () => void;
}> {
  const samples: SystemSample[] = [];
  const sampler = new SystemSampler({
    intervalSeconds: 0.05,
    gpu,
    nvmlLibrary: library,
    outputDir: os.tmpdir(),
    health: new SinkHealth(() => undefined),
    onSample: (sample) => samples.push(sample),
    warn: () => undefined,
  });
  const reader = new OnDemandReader();
  const provider = new MeterProvider({ readers: [reader] });
  // The real sampler, with its reads counted to prove what a collection touches.
  const counted = {
    reads: 0,
    latest: () => {
      counted.reads++;
      return sampler.latest();
    },
    get gpus() {
      return sampler.gpus;
    },
    get stats() {
      return sampler.stats;
    },
  };
  const handle = registerSystemInstruments(provider.getMeter('test'), counted);
  cleanups.push(
    () => sampler.stop(),
    () => provider.shutdown(),
  );
  await sampler.start();
  while (samples.length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
  await sampler.stop();
  const collect = async (): Promise<Map<string, MetricData>> => {
    const { resourceMetrics, errors } = await reader.collect();
    expect(errors).toEqual([]);
    const metrics = resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics);
    return new Map(metrics.map((metric) => [metric.descriptor.name, metric]));
  };
  return { sampler, counted, collect, unregister: () => handle.unregister() };
}

const points = (metric: MetricData | undefined) =>
  (metric?.dataPoints ?? []).map((point) => ({ attributes: point.attributes, value: point.value as number }));

test('host metrics are exported under semantic-convention names, units and attributes', async () => {
  const { sampler, collect } = await setUp(false);
  const metrics = await collect();
  const latest = sampler.latest()!.values;

  expect(metrics.get('system.memory.usage')?.descriptor.unit).toBe('By');
  expect(points(metrics.get('system.memory.usage'))).toEqual([
    { attributes: { 'system.memory.state': 'used' }, value: latest.ram_used_bytes },
    { attributes: { 'system.memory.state': 'free' }, value: latest.ram_available_bytes },
  ]);
  expect(points(metrics.get('system.memory.utilization'))[0].value).toBeCloseTo(latest.ram_percent / 100, 12);

  const cpu = points(metrics.get('system.cpu.utilization'));
  expect(cpu.map((p) => p.attributes['cpu.mode'])).toEqual([
    'user',
    'nice',
    'system',
    'idle',
    'iowait',
    'interrupt',
    'steal',
  ]);
  expect(cpu.reduce((sum, p) => sum + p.value, 0)).toBeCloseTo(1, 9);
  expect(metrics.get('system.cpu.utilization')?.descriptor.unit).toBe('1');

  expect(points(metrics.get('system.cpu.load_average.1m'))[0].value).toBe(latest.load1);
  expect(points(metrics.get('process.memory.usage'))[0].value).toBe(latest.proc_rss_bytes);
  expect(points(metrics.get('process.threads'))[0].value).toBe(latest.proc_threads);
  expect(points(metrics.get('process.open_file_descriptors'))[0].value).toBe(latest.proc_open_fds);
  expect(points(metrics.get('system.filesystem.usage'))[0]).toEqual({
    attributes: { 'system.filesystem.state': 'used' },
    value: latest.disk_used_bytes,
  });

  const disk = points(metrics.get('system.disk.io'));
  expect(disk.length).toBeGreaterThan(0);
  expect(disk[0].attributes).toHaveProperty('system.device');
  expect(['read', 'write']).toContain(disk[0].attributes['disk.io.direction']);
  const net = points(metrics.get('system.network.io'));
  expect(net.map((p) => p.attributes['network.interface.name'])).not.toContain('lo');
  expect(new Set(net.map((p) => p.attributes['network.io.direction']))).toEqual(
    new Set(['transmit', 'receive']),
  );
  expect(metrics.has('hw.gpu.utilization')).toBe(false);
});

test('GPU metrics carry hw.type, hw.id, hw.name and hw.vendor and the fake library’s values', async (context) => {
  // fakeNvmlOrSkip() throws under CI; elsewhere a machine without cc skips with the reason.
  if (!library) return context.skip('no C compiler to build the fake libnvidia-ml.so (apt-get install gcc)');
  const { collect } = await setUp(true);
  const metrics = await collect();
  const utilization = points(metrics.get('hw.gpu.utilization'));
  expect(utilization).toHaveLength(8);
  expect(utilization[3]).toEqual({
    attributes: {
      'hw.type': 'gpu',
      'hw.id': '3',
      'hw.name': 'NVIDIA Fake GPU 3',
      'hw.vendor': 'NVIDIA',
      'gpu.uuid': 'GPU-fa4e0003-0000-0000-0000-000000000003',
      'gpu.driver.version': '550.54.15',
    },
    value: 0.13,
  });
  const temperatures = points(metrics.get('hw.temperature')).filter((p) => p.attributes['hw.id'] === '5');
  expect(temperatures).toEqual([
    expect.objectContaining({
      attributes: expect.objectContaining({ 'hw.sensor_location': 'gpu' }),
      value: 45,
    }),
    expect.objectContaining({
      attributes: expect.objectContaining({ 'hw.sensor_location': 'memory' }),
      value: 65,
    }),
  ]);
  expect(metrics.get('hw.temperature')?.descriptor.unit).toBe('Cel');
  expect(points(metrics.get('hw.power'))[2].value).toBe(102);
  expect(metrics.get('hw.power')?.descriptor.unit).toBe('W');
  expect(points(metrics.get('hw.gpu.memory.usage'))[1].value).toBe(2 * 1024 ** 3);
  expect(points(metrics.get('hw.gpu.memory.limit'))[1].value).toBe(80 * 1024 ** 3);
  expect(points(metrics.get('hw.errors')).filter((p) => p.attributes['hw.id'] === '4')).toEqual([
    expect.objectContaining({ value: 1008 }),
    expect.objectContaining({ value: 1004 }),
  ]);
});

test('every GPU key the key table exports is observed once per GPU, at the fake library’s value and unit', async (context) => {
  // fakeNvmlOrSkip() throws under CI; elsewhere a machine without cc skips with the reason.
  if (!library) return context.skip('no C compiler to build the fake libnvidia-ml.so (apt-get install gcc)');
  const { collect } = await setUp(true);
  const metrics = await collect();
  let checked = 0;
  for (let i = 0; i < 8; i++) {
    for (const [flatKey, value] of Object.entries(expectedGpuKeys(i))) {
      const spec = GPU_KEYS.find((entry) => `gpu_${i}_${entry.key}` === flatKey)?.instrument;
      if (!spec) continue;
      const metric = metrics.get(spec.name);
      expect(metric?.descriptor.unit, spec.name).toBe(spec.unit);
      const matching = points(metric).filter(
        (p) =>
          p.attributes['hw.id'] === String(i) &&
          Object.entries(spec.attributes ?? {}).every(([name, expected]) => p.attributes[name] === expected),
      );
      expect(matching, flatKey).toHaveLength(1);
      expect(matching[0].value, flatKey).toBeCloseTo(value * (spec.scale ?? 1), 9);
      checked++;
    }
  }
  expect(checked).toBeGreaterThan(8 * 30);
});

test('a collection reads the cached sample: the sampler, once stopped, is not read again', async () => {
  const { sampler, collect } = await setUp(false);
  const before = sampler.latest();
  const first = await collect();
  const second = await collect();
  expect(sampler.latest()).toBe(before);
  expect(points(second.get('process.memory.usage'))).toEqual(points(first.get('process.memory.usage')));
});

test('unregister() removes the callback: later collections no longer read the sampler', async () => {
  const { counted, collect, unregister } = await setUp(false);
  await collect();
  expect(counted.reads).toBe(1);
  unregister();
  unregister();
  await collect();
  expect(counted.reads).toBe(1);
});

test('skipped system samples are counted on codex.system.samples.skipped, as the sampler counts them', async (context) => {
  if (!library) return context.skip();
  // Every NVML call takes 10 ms: a sample of one GPU takes ~0.3 s against a 50 ms interval.
  process.env.FAKE_NVML_GPU_COUNT = '1';
  process.env.FAKE_NVML_DELAY_US = '10000';
  try {
    const { sampler, collect } = await setUp(true);
    const skipped = points((await collect()).get('codex.system.samples.skipped'));
    expect(skipped).toEqual([{ attributes: {}, value: sampler.stats.skipped }]);
    expect(sampler.stats.skipped).toBeGreaterThan(0);
  } finally {
    delete process.env.FAKE_NVML_GPU_COUNT;
    delete process.env.FAKE_NVML_DELAY_US;
  }
});
