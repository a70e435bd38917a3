import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { afterEach, describe, expect, test } from 'vitest';
import { ProcHostSource } from '../../src/system/proc-host-source.js';
import type { FlatValues } from '../../src/system/sample.js';

const hasProc = fs.existsSync('/proc/self/stat');
const problems: string[] = [];
const report = (source: string, error: unknown): void => {
  problems.push(`${source}: ${String(error)}`);
};

let child: ChildProcess | undefined;
afterEach(() => {
  child?.kill('SIGKILL');
  child = undefined;
  problems.length = 0;
});

function sampleTwice(source: ProcHostSource, waitMs: number): Promise<FlatValues> {
  source.sample({});
  return new Promise((resolve) => {
    setTimeout(() => {
      const values: FlatValues = {};
      source.sample(values);
      resolve(values);
    }, waitMs);
  });
}

/** Busy-waits until this process has used `ms` of CPU time, however loaded the machine is. */
function burnCpu(ms: number): void {
  const start = process.cpuUsage();
  for (;;) {
    const used = process.cpuUsage(start);
    if ((used.user + used.system) / 1000 >= ms) return;
  }
}

describe.runIf(hasProc || process.env.CI)('ProcHostSource on this Linux host', () => {
  test('a second read gives every host, filesystem and process key with plausible values', async () => {
    const source = new ProcHostSource({ outputDir: os.tmpdir(), pid: process.pid, report });
    source.sample({});
    const cpuBefore = process.cpuUsage();
    const wallBefore = performance.now();
    burnCpu(150);
    const values: FlatValues = {};
    await new Promise((resolve) => setTimeout(resolve, 50));
    const extras = source.sample(values);
    const cpu = process.cpuUsage(cpuBefore);
    const ownPercent =
      ((cpu.user + cpu.system) / 1000 / (performance.now() - wallBefore) / os.cpus().length) * 100;
    expect(problems).toEqual([]);
    for (const key of [
      'cpu_percent',
      'cpu_user_percent',
      'cpu_system_percent',
      'cpu_iowait_percent',
      'load1',
      'load5',
      'load15',
      'ram_used_bytes',
      'ram_available_bytes',
      'ram_total_bytes',
      'ram_percent',
      'swap_used_bytes',
      'swap_total_bytes',
      'disk_used_bytes',
      'disk_total_bytes',
      'disk_percent',
      'net_sent_bytes',
      'net_recv_bytes',
      'proc_cpu_percent',
      'proc_rss_bytes',
      'proc_mem_percent',
      'proc_threads',
      'proc_open_fds',
    ]) {
      expect(values, key).toHaveProperty(key);
      expect(Number.isFinite(values[key]), key).toBe(true);
    }
    expect(values.ram_total_bytes).toBe(os.totalmem());
    expect(values.cpu_percent).toBeGreaterThan(0);
    expect(values.cpu_percent).toBeLessThanOrEqual(100);
    // The tree is this process alone: its CPU share, within the 10 ms granularity of /proc ticks.
    expect(values.proc_cpu_percent).toBeGreaterThan(ownPercent * 0.7);
    expect(values.proc_cpu_percent).toBeLessThan(ownPercent * 1.3 + 1);
    expect(values.proc_rss_bytes).toBeGreaterThan(process.memoryUsage().rss * 0.5);
    expect(values.proc_threads).toBeGreaterThanOrEqual(1);
    expect(values.proc_open_fds).toBeGreaterThan(2);
    expect(values.disk_percent).toBeGreaterThan(0);
    // Per-disk counters come typed; the sampler flattens them (src/system/keys/flatten.ts).
    expect(extras.disks.length).toBeGreaterThan(0);
    expect(extras.disks.every((disk) => disk.readBytes >= 0 && disk.writeBytes >= 0)).toBe(true);
    expect(extras.processTree).toEqual([process.pid]);
  });

  test('the process tree includes a spawned child, its RSS and its threads', async () => {
    const alone = await sampleTwice(new ProcHostSource({ outputDir: '.', pid: process.pid, report }), 10);
    const big = 200 * 1024 * 1024;
    child = spawn(
      process.execPath,
      ['-e', `globalThis.b = Buffer.alloc(${big}, 1); console.log('ready'); setInterval(() => {}, 1000);`],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve) => child!.stdout!.once('data', () => resolve()));
    const withChild = await sampleTwice(new ProcHostSource({ outputDir: '.', pid: process.pid, report }), 10);
    expect(withChild.proc_rss_bytes - alone.proc_rss_bytes).toBeGreaterThan(big * 0.9);
    expect(withChild.proc_threads).toBeGreaterThan(alone.proc_threads);

    const childOnly = await sampleTwice(new ProcHostSource({ outputDir: '.', pid: child.pid!, report }), 10);
    expect(childOnly.proc_rss_bytes).toBeGreaterThan(big * 0.9);
    expect(childOnly.proc_rss_bytes).toBeLessThan(withChild.proc_rss_bytes);
  });

  test('a root that has exited leaves the process keys out, not at 0', async () => {
    child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
    const pid = child.pid!;
    await new Promise((resolve) => child!.once('exit', resolve));
    const values = await sampleTwice(new ProcHostSource({ outputDir: '.', pid, report }), 5);
    expect(Object.keys(values).filter((key) => key.startsWith('proc_'))).toEqual([]);
    expect(values.ram_total_bytes).toBeGreaterThan(0);
  });

  test('a procfs without some files leaves those keys out and reports each part', () => {
    const root = fs.mkdtempSync(`${os.tmpdir()}/fake-proc-`);
    fs.writeFileSync(`${root}/loadavg`, '0.50 0.25 0.10 1/100 42\n');
    const values: FlatValues = {};
    new ProcHostSource({ outputDir: '.', pid: 1, report, procRoot: root }).sample(values);
    expect(values.load1).toBe(0.5);
    expect(values).not.toHaveProperty('cpu_percent');
    expect(values).not.toHaveProperty('ram_total_bytes');
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual([
      'proc.cpu',
      'proc.diskstats',
      'proc.memory',
      'proc.network',
      'proc.process',
    ]);
    fs.rmSync(root, { recursive: true });
  });
});
