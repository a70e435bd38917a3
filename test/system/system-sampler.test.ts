import { spawn } from 'node:child_process';
import os from 'node:os';
import { afterEach, beforeAll, describe, expect, test } from 'vitest';
import { TelemetryError } from '../../src/errors.js';
import { SinkHealth } from '../../src/health.js';
import { NVML_SINK } from '../../src/system/nvml/gpu-source.js';
import {
  SystemSampler,
  type SystemSample,
  type SystemSamplerOptions,
} from '../../src/system/system-sampler.js';
import { TickSchedule } from '../../src/system/tick-schedule.js';
import { FAKE_NVML_KNOBS, fakeNvmlInitCounter, fakeNvmlOrSkip } from '../fixtures/nvml/build.js';

let library: string | undefined;
const samplers: SystemSampler[] = [];
const warnings: string[] = [];

let initCount: () => number;

beforeAll(() => {
  library = fakeNvmlOrSkip();
  if (library) initCount = fakeNvmlInitCounter(library);
});

afterEach(async () => {
  for (const sampler of samplers.splice(0)) await sampler.stop();
  for (const knob of FAKE_NVML_KNOBS) delete process.env[knob];
  warnings.length = 0;
});

function create(options: Partial<SystemSamplerOptions> = {}): {
  sampler: SystemSampler;
  samples: SystemSample[];
  health: SinkHealth;
} {
  const samples: SystemSample[] = [];
  const health = new SinkHealth((message) => warnings.push(message));
  const sampler = new SystemSampler({
    intervalSeconds: 0.05,
    gpu: false,
    outputDir: os.tmpdir(),
    health,
    onSample: (sample) => samples.push(sample),
    warn: (message) => warnings.push(message),
    ...options,
  });
  samplers.push(sampler);
  return { sampler, samples, health };
}

const until = async (condition: () => boolean, timeoutMs = 5000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};

describe('SystemSampler', () => {
  test.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY])(
    'an interval of %s seconds is refused in the constructor with a ConfigError',
    (intervalSeconds) => {
      expect(() => create({ intervalSeconds })).toThrow(TelemetryError);
      expect(() => create({ intervalSeconds })).toThrow('systemMetricsInterval');
    },
  );

  test('samples carry increasing seq, a Unix timestamp and host keys; latest() is the last one', async () => {
    const { sampler, samples } = create();
    expect(sampler.latest()).toBeUndefined();
    await sampler.start();
    await until(() => samples.length >= 3);
    expect(samples.slice(0, 3).map((s) => s.seq)).toEqual([0, 1, 2]);
    expect(Math.abs(samples[0].ts - Date.now() / 1000)).toBeLessThan(5);
    expect(samples[2].values.ram_total_bytes).toBe(os.totalmem());
    expect(samples[2].values).toHaveProperty('proc_rss_bytes');
    expect(samples[2].interfaces.every((io) => io.name !== 'lo')).toBe(true);
    expect(sampler.latest()).toBe(samples.at(-1));
    expect(sampler.sourceName).toBe('proc');
    expect(Object.keys(samples[2].values).some((key) => key.startsWith('gpu_'))).toBe(false);
  });

  test('poll() hands waiting samples to onSample at once, in order, so a training loop receives them without a timer wake', async () => {
    const { sampler, samples } = create({ intervalSeconds: 0.02 });
    await sampler.start();
    await until(() => samples.length >= 1);
    const before = samples.length;
    // Blocked without yielding, as a training step is: the sampler's timer cannot run meanwhile.
    const end = Date.now() + 300;
    while (Date.now() < end);
    expect(samples.length).toBe(before);
    sampler.poll();
    expect(samples.length).toBeGreaterThanOrEqual(before + 3);
    expect(samples.map((sample) => sample.seq)).toEqual(samples.map((_, index) => index));
    // Columns and the object view of the same keys agree.
    const last = samples.at(-1)!;
    expect(Object.fromEntries(last.names!.map((name, i) => [name, last.columns![i]]))).toEqual(last.values);
    // A second poll hands no sample twice. The worker may have taken one since (it samples every
    // 20 ms in its own thread, and a loaded machine can spend that between the two polls): only
    // such newer samples may follow, in order.
    const polled = samples.length;
    sampler.poll();
    expect(samples.length).toBeGreaterThanOrEqual(polled);
    expect(samples.map((sample) => sample.seq)).toEqual(samples.map((_, index) => index));
  });

  test('sampling stays on schedule: tick k is due at start + k·interval however late the one before woke, without drift', () => {
    // The schedule the worker thread runs, on a clock the test moves.
    let now = 1000;
    const schedule = new TickSchedule(40, () => now);
    expect(schedule.start()).toBe(40);
    // Tick 1 wakes 25 ms late: tick 2 is still due at 80, 15 ms away, not 40.
    now += 65;
    expect(schedule.next()).toBe(15);
    // Tick 2 wakes on time: tick 3 is due at 120.
    now += 15;
    expect(schedule.next()).toBe(40);
    // Tick 3 wakes 100 ms late (a slow sample): ticks 4 and 5 (160, 200) are skipped and counted,
    // not bunched; tick 6 is due at 240.
    now += 140;
    expect(schedule.next()).toBe(20);
    expect(schedule.skipped).toBe(2);
    // A timer that fires a fraction early never makes the same tick due twice.
    now += 19.5;
    expect(schedule.next()).toBe(40.5);
    expect(schedule.skipped).toBe(2);
  });

  test('a sample slower than the interval is skipped and counted, never queued', async (context) => {
    if (!library) return context.skip();
    // One GPU whose every call takes 10 ms: a sample takes ~0.3 s against a 50 ms interval.
    process.env.FAKE_NVML_GPU_COUNT = '1';
    process.env.FAKE_NVML_DELAY_US = '10000';
    const times: number[] = [];
    const { sampler } = create({
      gpu: true,
      nvmlLibrary: library,
      intervalSeconds: 0.05,
      onSample: () => times.push(performance.now()),
    });
    await sampler.start();
    await until(() => times.length >= 3, 20_000);
    await sampler.stop();
    const gaps = times.slice(1).map((t, i) => t - times[i]);
    // Back to back at the sample's own pace (each at least ~20 calls x 10 ms), not bunched.
    for (const gap of gaps) expect(gap).toBeGreaterThan(150);
    expect(sampler.stats.skipped).toBeGreaterThanOrEqual(times.length * 2);
  });

  test('stop() is idempotent and no sample arrives after it', async () => {
    const { sampler, samples } = create({ intervalSeconds: 0.01 });
    await sampler.start();
    await until(() => samples.length >= 1);
    await sampler.stop();
    await sampler.stop();
    const count = samples.length;
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(samples.length).toBe(count);
    await sampler.start();
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(samples.length).toBe(count);
  });

  test('an onSample that throws is reported once and sampling carries on', async () => {
    let calls = 0;
    const { sampler } = create({
      intervalSeconds: 0.01,
      onSample: () => {
        calls++;
        throw new Error('sink exploded');
      },
    });
    await sampler.start();
    await until(() => calls >= 4);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('onSample failed (sink exploded)');
  });

  test('watch() moves the process keys to another tree', async () => {
    // Start on a lone `sleep` (one thread, a megabyte or two), then move to this test process.
    const sleeper = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      const { sampler, samples } = create({ intervalSeconds: 0.02, pid: sleeper.pid });
      await sampler.start();
      await until(() => samples.some((sample) => sample.values.proc_threads !== undefined));
      const before = samples.at(-1)!.values;
      expect(before.proc_threads).toBe(1);
      expect(before.proc_rss_bytes).toBeLessThan(16 * 2 ** 20);
      sampler.watch(process.pid);
      const seen = samples.length;
      await until(() => samples.length >= seen + 2);
      const after = samples.at(-1)!.values;
      expect(after.proc_threads).toBeGreaterThan(1);
      expect(after.proc_rss_bytes).toBeGreaterThan(process.memoryUsage().rss / 2);
    } finally {
      sleeper.kill('SIGKILL');
    }
  });

  test('the systeminformation source gives the host keys where /proc is not used', async () => {
    const { sampler, samples } = create({ intervalSeconds: 0.3, source: 'systeminformation' });
    await sampler.start();
    await until(() => samples.length >= 1, 20_000);
    await sampler.stop();
    const values = samples[0].values;
    expect(sampler.sourceName).toBe('systeminformation');
    expect(values.ram_total_bytes).toBe(os.totalmem());
    for (const key of ['cpu_percent', 'ram_percent', 'disk_percent', 'net_sent_bytes', 'proc_rss_bytes']) {
      expect(values, key).toHaveProperty(key);
    }
    // It cannot see the process tree's threads or descriptors: absent, not 0.
    expect(values).not.toHaveProperty('proc_threads');
    expect(values).not.toHaveProperty('proc_open_fds');
  });
});

describe('SystemSampler with GPUs (fake libnvidia-ml.so.1)', () => {
  test('gpu=true adds gpu_<i>_* keys for 8 GPUs, exposes their identity, and stop() shuts NVML down', async (context) => {
    if (!library) return context.skip();
    const { sampler, samples } = create({ gpu: true, nvmlLibrary: library });
    await sampler.start();
    await until(() => samples.length >= 1);
    expect(sampler.gpus.map((gpu) => gpu.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(sampler.gpus[0].driverVersion).toBe('550.54.15');
    expect(samples[0].values.gpu_7_temp_c).toBe(47);
    expect(samples[0].values.gpu_0_util_percent).toBe(10);
    expect(samples[0].values).toHaveProperty('ram_used_bytes');
    const before = initCount();
    await Promise.all([sampler.stop(), sampler.stop()]);
    expect(initCount()).toBe(before - 1);
  });

  test('cudaVisibleDevices limits the GPUs sampled', async (context) => {
    if (!library) return context.skip();
    const { sampler, samples } = create({ gpu: true, nvmlLibrary: library, cudaVisibleDevices: '4' });
    await sampler.start();
    await until(() => samples.length >= 1);
    const gpuKeys = Object.keys(samples[0].values).filter((key) => key.startsWith('gpu_'));
    expect(new Set(gpuKeys.map((key) => key.split('_')[1]))).toEqual(new Set(['4']));
  });

  test('a missing NVML gives one warning and host metrics carry on', async () => {
    const { sampler, samples, health } = create({ gpu: true, nvmlLibrary: '/nonexistent/libnvidia-ml.so.1' });
    await sampler.start();
    await until(() => samples.length >= 2);
    expect(health.isUp(NVML_SINK)).toBe(false);
    expect(warnings).toHaveLength(1);
    expect(samples[1].values.ram_total_bytes).toBe(os.totalmem());
    expect(sampler.gpus).toEqual([]);
  });
});
