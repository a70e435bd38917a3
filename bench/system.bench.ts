/**
 * System sample cost: CPU milliseconds per sample (this process plus any children it waits for) of
 * our /proc host source plus 8 GPUs through the fake libnvidia-ml.so.1, beside systeminformation's
 * equivalent calls (currentLoad, mem, fsSize, networkStats, disksIO, processLoad) in the same run.
 * Child processes are counted by wrapping child_process before systeminformation is loaded.
 */
import childProcess, { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SinkHealth } from '../src/health.js';
import { flattenGpus, flattenHost } from '../src/system/keys/flatten.js';
import { GpuSource } from '../src/system/nvml/gpu-source.js';
import { ProcHostSource } from '../src/system/proc-host-source.js';
import type { FlatValues } from '../src/system/sample.js';
import type { Bench, BenchResult } from './types.js';

const GOAL_MS = 0.5;
/** One sample of 8 GPUs with every field, against the fake library with zero delay. */
const GPU_GOAL_US = 150;

let spawned = 0;

/** Counts every child process started from now on, whichever child_process API starts it. */
function countChildProcesses(): void {
  // spawn, exec, execFile and fork all end in ChildProcess.prototype.spawn (internal, so untyped).
  const proto = ChildProcess.prototype as unknown as { spawn: (...args: unknown[]) => unknown };
  const spawn = proto.spawn;
  proto.spawn = function (this: unknown, ...args: unknown[]) {
    spawned++;
    return spawn.apply(this, args);
  };
  const module = childProcess as unknown as Record<string, (...args: unknown[]) => unknown>;
  for (const name of ['spawnSync', 'execSync', 'execFileSync']) {
    const original = module[name];
    module[name] = (...args: unknown[]) => {
      spawned++;
      return original(...args);
    };
  }
}

/** CPU of this process and of the children it has reaped (utime+stime+cutime+cstime, 100 ticks/s). */
function cpuMs(): number {
  const usage = process.cpuUsage();
  const stat = fs.readFileSync('/proc/self/stat', 'latin1');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const childTicks = Number(fields[13]) + Number(fields[14]);
  return (usage.user + usage.system) / 1000 + childTicks * 10;
}

function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('system.bench: cannot find the repository root (package.json)');
    dir = parent;
  }
  return dir;
}

/** Builds the fake NVML into tmpDir (the bench runs from dist/, outside the test helpers). */
function buildFakeNvml(tmpDir: string): string | undefined {
  const source = path.join(repoRoot(), 'test/fixtures/nvml/fake_nvml.c');
  const library = path.join(tmpDir, 'libnvidia-ml.so.1');
  try {
    childProcess.execFileSync('cc', ['-shared', '-fPIC', '-O2', '-o', library, source], { stdio: 'ignore' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return library;
}

function measure(samples: number, sample: () => void): { ms: number; children: number } {
  const children = spawned;
  const start = cpuMs();
  for (let i = 0; i < samples; i++) sample();
  return { ms: (cpuMs() - start) / samples, children: (spawned - children) / samples };
}

async function measureAsync(
  samples: number,
  sample: () => Promise<void>,
): Promise<{ ms: number; children: number }> {
  const children = spawned;
  const start = cpuMs();
  for (let i = 0; i < samples; i++) await sample();
  return { ms: (cpuMs() - start) / samples, children: (spawned - children) / samples };
}

export const run: Bench = async ({ quick, tmpDir }) => {
  if (!fs.existsSync('/proc/self/stat')) throw new Error('system.bench measures the Linux /proc source');
  const library = buildFakeNvml(tmpDir);
  countChildProcesses();

  const host = new ProcHostSource({ outputDir: tmpDir, pid: process.pid, report: () => undefined });
  process.env.FAKE_NVML_GPU_COUNT = '8';
  // Every field answers on every GPU; a few processes per GPU, one of them ours.
  process.env.FAKE_NVML_PROCESSES = Array.from(
    { length: 8 },
    (_, gpu) => `${gpu}:${process.pid}:1073741824,${gpu}:1:536870912,${gpu}:2:268435456`,
  ).join(',');
  const gpus = library
    ? GpuSource.open({ health: new SinkHealth(() => undefined), library, warn: () => undefined })
    : undefined;
  const watched = new Set([process.pid]);
  host.sample();
  const hostSample = (): void => {
    flattenHost(host.sample(), {});
  };
  const gpuSample = (): void => {
    const next: FlatValues = {};
    flattenGpus(gpus!.sample(watched), next);
  };
  const oursSample = (): void => {
    const next: FlatValues = {};
    const hostPart = host.sample();
    flattenHost(hostPart, next);
    if (gpus) flattenGpus(gpus.sample(watched), next);
  };
  for (let i = 0; i < 50; i++) oursSample(); // warm-up: JIT and first-touch allocations
  const samples = quick ? 500 : 5000;
  const ours = measure(samples, oursSample);
  const hostOnly = measure(samples, hostSample);
  const gpuOnly = gpus ? measure(samples, gpuSample) : undefined;
  const gpuKeys = gpus ? gpus.sample(watched).length * gpus.sample(watched)[0]!.values.length : 0;
  gpus?.close();

  const si = (await import('systeminformation')).default;
  const siSample = async (): Promise<void> => {
    await Promise.all([
      si.currentLoad(),
      si.mem(),
      si.fsSize(),
      si.networkStats('*'),
      si.disksIO(),
      si.processLoad('node'),
    ]);
  };
  await siSample(); // warm-up
  const baseline = await measureAsync(quick ? 5 : 30, siSample);

  const what = gpus
    ? `host + ${gpus.infos.length} GPUs through the fake libnvidia-ml.so test fixture, not a real NVML driver`
    : 'host only (no cc for the fake NVML)';
  const results: BenchResult[] = [];
  if (gpuOnly) {
    results.push({
      figure: `GPU sample CPU, 8 GPUs x every field (${gpuKeys} slots), typed + flattened, measured against the fake libnvidia-ml (zero delay)`,
      unit: 'µs/sample',
      ours: gpuOnly.ms * 1000,
      baseline: hostOnly.ms * 1000,
      baselineName: 'our /proc host sample in the same run',
      ratio: hostOnly.ms / gpuOnly.ms,
      goal: `<= ${GPU_GOAL_US} µs/sample`,
      met: gpuOnly.ms * 1000 <= GPU_GOAL_US,
    });
  }
  results.push(
    {
      figure: `system sample CPU (${what}), incl. child processes`,
      unit: 'ms/sample',
      ours: ours.ms,
      baseline: baseline.ms,
      baselineName: 'systeminformation currentLoad+mem+fsSize+networkStats+disksIO+processLoad (no GPU)',
      ratio: baseline.ms / ours.ms,
      goal: `<= ${GOAL_MS} ms/sample`,
      met: ours.ms <= GOAL_MS,
    },
    {
      figure: 'child processes started per system sample',
      unit: 'processes',
      ours: ours.children,
      baseline: baseline.children,
      baselineName: 'systeminformation, same calls',
      // With none of our own, the ratio is how many the baseline starts plus one.
      ratio: (baseline.children + 1) / (ours.children + 1),
      goal: '0 on Linux',
      met: ours.children === 0,
    },
  );
  return results;
};
