import { spawn } from 'node:child_process';
import os from 'node:os';
import { afterEach, beforeAll, describe, expect, test, vi } from 'vitest';
import { TelemetryError } from '../../src/errors.js';
import { SinkHealth } from '../../src/health.js';
import { NVML_SINK } from '../../src/system/nvml/gpu-source.js';
import {
  SystemSampler,
  type SystemSample,
  type SystemSamplerOptions,
} from '../../src/system/system-sampler.js';
import { fakeNvmlInitCounter, fakeNvmlOrSkip } from '../fixtures/nvml/build.js';

let library: string | undefined;
const samplers: SystemSampler[] = [];
const warnings: string[] = [];

let initCount: () => number;

beforeAll(() => {
  library = fakeNvmlOrSkip();
  if (library) initCount = fakeNvmlInitCounter(library);
});

afterEach(() => {
  for (const sampler of samplers.splice(0)) sampler.stop();
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
    sampler.start();
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

  test('sampling stays on schedule: tick k is due at start + k·interval however late the one before woke, without drift', async () => {
    // Only the clock the sampler reads is fake; its timers are real. Each real timer wakes the
    // sampler at a fake time the test chose before, so a late wake is simulated exactly, whatever
    // the machine's load, and the next delay it asks for shows whether lateness carries over.
    vi.useFakeTimers({ toFake: ['performance'] });
    try {
      const times: number[] = [];
      const delays = vi.spyOn(globalThis, 'setTimeout');
      const { sampler } = create({ intervalSeconds: 0.04, onSample: () => times.push(performance.now()) });
      const start = performance.now();
      const lastDelay = (): number => delays.mock.calls.at(-1)?.[1] as number;
      const sampled = async (count: number): Promise<void> => {
        const deadline = Date.now() + 10_000;
        while (times.length < count) {
          if (Date.now() > deadline) throw new Error(`sample ${count} did not arrive`);
          await new Promise((resolve) => setImmediate(resolve));
        }
      };
      sampler.start();
      expect(lastDelay()).toBe(40);
      // Tick 1 wakes 25 ms late: tick 2 is still due at 80, 15 ms away, not 40.
      vi.advanceTimersByTime(65);
      await sampled(1);
      expect(times[0]! - start).toBe(65);
      expect(lastDelay()).toBe(15);
      // Tick 2 wakes on time: tick 3 is due at 120.
      vi.advanceTimersByTime(15);
      await sampled(2);
      expect(lastDelay()).toBe(40);
      // Tick 3 wakes 100 ms late (a blocked loop): ticks 4 and 5 (160, 200) are skipped, not
      // bunched; tick 6 is due at 240.
      vi.advanceTimersByTime(140);
      await sampled(3);
      expect(times[2]! - start).toBe(220);
      expect(lastDelay()).toBe(20);
      sampler.stop();
    } finally {
      vi.useRealTimers();
      vi.restoreAllMocks();
    }
  });

  test('a blocked event loop skips the missed ticks instead of bunching them', async () => {
    const times: number[] = [];
    const { sampler } = create({ intervalSeconds: 0.02, onSample: () => times.push(performance.now()) });
    sampler.start();
    const blockUntil = performance.now() + 200;
    while (performance.now() < blockUntil);
    await new Promise((resolve) => setTimeout(resolve, 50));
    sampler.stop();
    // 250 ms at 20 ms would be 12 ticks; the 10 missed while blocked collapse into one.
    expect(times.length).toBeGreaterThanOrEqual(2);
    expect(times.length).toBeLessThanOrEqual(5);
  });

  test('stop() is idempotent and no sample arrives after it', async () => {
    const { sampler, samples } = create({ intervalSeconds: 0.01 });
    sampler.start();
    await until(() => samples.length >= 1);
    sampler.stop();
    sampler.stop();
    const count = samples.length;
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(samples.length).toBe(count);
    sampler.start();
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
    sampler.start();
    await until(() => calls >= 4);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('onSample failed (sink exploded)');
  });

  test('watch() moves the process keys to another tree', async () => {
    // Start on a lone `sleep` (one thread, a megabyte or two), then move to this test process.
    const sleeper = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      const { sampler, samples } = create({ intervalSeconds: 0.02, pid: sleeper.pid });
      sampler.start();
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
    sampler.start();
    await until(() => samples.length >= 1, 20_000);
    sampler.stop();
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
    sampler.start();
    await until(() => samples.length >= 1);
    expect(sampler.gpus.map((gpu) => gpu.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(sampler.gpus[0].driverVersion).toBe('550.54.15');
    expect(samples[0].values.gpu_7_temp_c).toBe(47);
    expect(samples[0].values.gpu_0_util_percent).toBe(10);
    expect(samples[0].values).toHaveProperty('ram_used_bytes');
    const before = initCount();
    sampler.stop();
    sampler.stop();
    expect(initCount()).toBe(before - 1);
  });

  test('cudaVisibleDevices limits the GPUs sampled', async (context) => {
    if (!library) return context.skip();
    const { sampler, samples } = create({ gpu: true, nvmlLibrary: library, cudaVisibleDevices: '4' });
    sampler.start();
    await until(() => samples.length >= 1);
    const gpuKeys = Object.keys(samples[0].values).filter((key) => key.startsWith('gpu_'));
    expect(new Set(gpuKeys.map((key) => key.split('_')[1]))).toEqual(new Set(['4']));
  });

  test('a missing NVML gives one warning and host metrics carry on', async () => {
    const { sampler, samples, health } = create({ gpu: true, nvmlLibrary: '/nonexistent/libnvidia-ml.so.1' });
    sampler.start();
    await until(() => samples.length >= 2);
    expect(health.isUp(NVML_SINK)).toBe(false);
    expect(warnings).toHaveLength(1);
    expect(samples[1].values.ram_total_bytes).toBe(os.totalmem());
    expect(sampler.gpus).toEqual([]);
  });
});
