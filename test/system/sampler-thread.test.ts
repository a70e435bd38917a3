/**
 * The sampler's worker thread: the training thread never waits for NVML, even when every call is
 * slow or one never returns.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterEach, beforeAll, expect, test } from 'vitest';
import { SinkHealth } from '../../src/health.js';
import { startSystemSampler } from '../../src/runtime/sampler-wiring.js';
import type { ResolvedTrainConfig } from '../../src/config/train-config.js';
import { SystemSampler, type SystemSample } from '../../src/system/system-sampler.js';
import { FAKE_NVML_KNOBS, fakeNvmlOrSkip } from '../fixtures/nvml/build.js';

const HANG_CHILD = fileURLToPath(new URL('../fixtures/children/sampler-hang.mjs', import.meta.url));
let library: string | undefined;

/** OS threads of this process (a worker thread is one more). */
const threads = (): number =>
  Number(/^Threads:\s+(\d+)/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))![1]);

beforeAll(() => {
  // The 20 ms throughput call is what drivers before R570 offer: the worst case.
  library = fakeNvmlOrSkip([], ['NO_PCIE_COUNTERS']);
});

afterEach(() => {
  for (const knob of FAKE_NVML_KNOBS) delete process.env[knob];
});

test('interval 0 starts no sampler: no worker thread, no timer', async () => {
  const config = { systemMetricsInterval: 0, localRank: 0 } as ResolvedTrainConfig;
  const before = process.getActiveResourcesInfo().sort();
  const threadsBefore = threads();
  const running = await startSystemSampler({
    config,
    health: new SinkHealth(() => undefined),
    warn: () => undefined,
    meter: undefined,
    pid: undefined,
    onSample: () => undefined,
  });
  expect(running).toBeUndefined();
  // A timer would be a new Timeout; a worker (unref'd, so not listed there) a new OS thread.
  expect(process.getActiveResourcesInfo().sort()).toEqual(before);
  await new Promise((resolve) => setTimeout(resolve, 100));
  expect(threads()).toBe(threadsBefore);
});

test('8 GPUs at 2 ms per NVML call (20 ms for PCIe) never block the event loop while they are sampled', async (context) => {
  if (!library) return context.skip();
  process.env.FAKE_NVML_DELAY_US = '2000';
  process.env.FAKE_NVML_DELAY = 'nvmlDeviceGetPcieThroughput:20000';
  const samples: SystemSample[] = [];
  const sampler = new SystemSampler({
    intervalSeconds: 0.2,
    gpu: true,
    nvmlLibrary: library,
    outputDir: os.tmpdir(),
    health: new SinkHealth(() => undefined),
    warn: () => undefined,
    onSample: (sample) => samples.push(sample),
  });
  await sampler.start();
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const started = performance.now();
  await new Promise<void>((resolve) => {
    const poll = setInterval(() => {
      if (samples.length >= 2 || performance.now() - started > 30_000) {
        clearInterval(poll);
        resolve();
      }
    }, 5);
  });
  delay.disable();
  await sampler.stop();
  expect(samples.length).toBeGreaterThanOrEqual(2);
  expect(samples.at(-1)!.values.gpu_7_pcie_tx_bytes_per_s).toBe(1007 * 1024);
  // A sample here is > 0.6 s of NVML calls (8 x (~40 x 2 ms + 2 x 20 ms)); on this thread it would
  // block the loop that long. The bound leaves room for a loaded 2-core machine.
  expect(delay.max / 1e6).toBeLessThan(300);
});

test('a library call that hangs for 60 s: training goes on, one warning, the system sink shows the gap, and a fresh worker resumes', async (context) => {
  if (!library) return context.skip();
  const child = spawn(process.execPath, [HANG_CHILD, library, '6000'], {
    env: { ...process.env, FAKE_NVML_GPU_COUNT: '2', FAKE_NVML_HANG: 'nvmlDeviceGetPowerUsage:60000' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('\n')) resolve();
      });
      child.on('exit', (code) => reject(new Error(`the child ended (${code}) before reporting`)));
    });
  } finally {
    // Its stuck thread would hold a normal exit for the rest of the 60 s.
    child.kill('SIGKILL');
  }
  const report = JSON.parse(output) as {
    steps: number;
    maxGap: number;
    warnings: string[];
    upOverTime: Array<{ at: number; up: boolean }>;
    samples: Array<{ at: number; power: number }>;
    stats: { hung: number; started: number };
  };
  // The 5 ms loop ran the whole time: a blocked thread would show a gap of the whole run (the call
  // blocks for 60 s); the bound leaves room for a loaded 2-core machine.
  expect(report.steps).toBeGreaterThan(100);
  expect(report.maxGap).toBeLessThan(1000);
  expect(report.warnings).toHaveLength(1);
  expect(report.warnings[0]).toContain('system sink disabled');
  expect(report.warnings[0]).toContain('has not returned for 1 s');
  expect(report.stats).toEqual(expect.objectContaining({ hung: 1, started: 2 }));
  // Up, then down while no worker answered, then up again with the fresh worker's samples.
  expect(report.upOverTime.map((entry) => entry.up)).toEqual([true, false, true]);
  const back = report.upOverTime[2].at;
  expect(report.samples.length).toBeGreaterThanOrEqual(3);
  expect(report.samples.every((sample) => sample.power === 100)).toBe(true);
  expect(report.upOverTime[1].at).toBeLessThan(back);
});
