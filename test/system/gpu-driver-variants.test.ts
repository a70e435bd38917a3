/**
 * What differs between real drivers, shown through build variants of the fake library: the size of
 * _v3 process entries, memory "used" of the v1 and v2 calls, the deprecated temperature call, PCIe
 * byte counters against the 20 ms throughput call, and NVML's host pids seen from a container.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, test } from 'vitest';
import { SinkHealth } from '../../src/health.js';
import { flattenGpus } from '../../src/system/keys/flatten.js';
import { GpuSource } from '../../src/system/nvml/gpu-source.js';
import { v3ProcessStride } from '../../src/system/nvml/process-info-stride.js';
import type { FlatValues } from '../../src/system/sample.js';
import {
  FAKE_NVML_KNOBS,
  fakeNvmlCalls,
  fakeNvmlOrSkip,
  type FakeNvmlVariant,
} from '../fixtures/nvml/build.js';
import { expectedGpuKeys } from '../fixtures/nvml/expected.js';

const GIB = 1024 ** 3;
const MIB = 1024 ** 2;
const warnings: string[] = [];
const opened: GpuSource[] = [];
const temporary: string[] = [];
let library: string | undefined;

beforeAll(() => {
  library = fakeNvmlOrSkip();
});

afterEach(() => {
  for (const source of opened.splice(0)) source.close();
  for (const knob of FAKE_NVML_KNOBS) delete process.env[knob];
  for (const dir of temporary.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  warnings.length = 0;
});

function open(path: string, procRoot?: string): GpuSource {
  const health = new SinkHealth((message) => warnings.push(message));
  const source = GpuSource.open({ health, library: path, procRoot, warn: (m) => warnings.push(m) });
  if (!source) throw new Error(`fake NVML did not open: ${warnings.join('; ')}`);
  opened.push(source);
  return source;
}

function flat(source: GpuSource, watched: ReadonlySet<number> = new Set()): FlatValues {
  const values: FlatValues = {};
  flattenGpus(source.sample(watched), values);
  return values;
}

function variant(omit: string[], variants: FakeNvmlVariant[] = []): string | undefined {
  return fakeNvmlOrSkip(omit, variants);
}

describe('process entries of every size', () => {
  test.for([
    ['32-byte _v3 entries (CUDA 12.2 drivers, 535.54.03)', ['PROCESS_INFO_V3_32']],
    ['24-byte _v3 entries', []],
  ] as Array<[string, FakeNvmlVariant[]]>)(
    '2 processes on one GPU are each read right through %s',
    ([, variants], context) => {
      const path = variant(['nvmlDeviceGetComputeRunningProcesses_v2'], variants);
      if (!path) return context.skip();
      process.env.FAKE_NVML_GPU_COUNT = '1';
      process.env.FAKE_NVML_PROCESSES = `0:4101:${3 * GIB},0:4102:${5 * MIB}`;
      const calls = fakeNvmlCalls(path);
      const source = open(path);
      calls.reset();
      // Each pid alone: the second entry is read where the driver put it, not 24 bytes after the first.
      expect(flat(source, new Set([4101]))['gpu_0_proc_mem_used_bytes']).toBe(3 * GIB);
      expect(flat(source, new Set([4102]))['gpu_0_proc_mem_used_bytes']).toBe(5 * MIB);
      expect(flat(source, new Set([4101, 4102]))['gpu_0_proc_mem_used_bytes']).toBe(3 * GIB + 5 * MIB);
      expect(calls.count('nvmlDeviceGetComputeRunningProcesses_v3')).toBe(3);
      expect(warnings).toEqual([]);
    },
  );

  test('_v2 is preferred where the driver has it, and _v3 is not called', (context) => {
    const path = variant([], ['PROCESS_INFO_V3_32']);
    if (!path) return context.skip();
    process.env.FAKE_NVML_GPU_COUNT = '1';
    process.env.FAKE_NVML_PROCESSES = `0:4101:${3 * GIB},0:4102:${5 * MIB}`;
    const calls = fakeNvmlCalls(path);
    const source = open(path);
    calls.reset();
    expect(flat(source, new Set([4102]))['gpu_0_proc_mem_used_bytes']).toBe(5 * MIB);
    expect(calls.count('nvmlDeviceGetComputeRunningProcesses_v2')).toBe(1);
    expect(calls.count('nvmlDeviceGetComputeRunningProcesses_v3')).toBe(0);
  });

  test('100 processes through 32-byte _v3 entries are all read and never written past the buffer', (context) => {
    const path = variant(['nvmlDeviceGetComputeRunningProcesses_v2'], ['PROCESS_INFO_V3_32']);
    if (!path) return context.skip();
    process.env.FAKE_NVML_GPU_COUNT = '2';
    const pids = Array.from({ length: 100 }, (_, k) => 20000 + k);
    process.env.FAKE_NVML_PROCESSES = [
      ...pids.map((pid, k) => `0:${pid}:${(k + 1) * MIB}`),
      ...pids.slice(0, 70).map((pid) => `1:${pid}:${MIB}`),
    ].join(',');
    const source = open(path);
    const watched = new Set(pids);
    // Sum of 1..100 MiB; the guard bytes after the buffer are checked after every call.
    for (let n = 0; n < 3; n++) {
      const values = flat(source, watched);
      expect(values['gpu_0_proc_mem_used_bytes']).toBe(5050 * MIB);
      expect(values['gpu_1_proc_mem_used_bytes']).toBe(70 * MIB);
    }
    expect(warnings).toEqual([]);
  });

  test.each([
    ['535.54.03', 32],
    ['535.43.02', 32],
    ['535.86.10', 32],
    ['535.104.05', 24],
    ['530.30.02', 24],
    ['550.54.15', 24],
    ['580.65.06', 24],
  ])('driver %s fills %i-byte _v3 entries', (version, stride) => {
    expect(v3ProcessStride(version, () => false)).toBe(stride);
  });

  test('without a version string, the CUDA 12.2 symbols tell the stride', () => {
    const only = (names: string[]) => (name: string) => names.includes(name);
    expect(v3ProcessStride('', only(['nvmlDeviceGetConfComputeMemSizeInfo']))).toBe(32);
    const both = only(['nvmlDeviceGetConfComputeMemSizeInfo', 'nvmlDeviceGetRunningProcessDetailList']);
    expect(v3ProcessStride('', both)).toBe(24);
    expect(v3ProcessStride('', only([]))).toBe(24);
  });
});

describe('NVML host pids seen from a PID namespace', () => {
  function procRootIn(namespace: string, visiblePids: number[]): string {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'proc-ns-'));
    temporary.push(root);
    fs.mkdirSync(path.join(root, 'self', 'ns'), { recursive: true });
    fs.symlinkSync(namespace, path.join(root, 'self', 'ns', 'pid'));
    for (const pid of visiblePids) fs.mkdirSync(path.join(root, String(pid)));
    return root;
  }

  test('in a container where no NVML pid can be seen, per-process memory is absent (never 0), with one line saying why', (context) => {
    if (!library) return context.skip();
    process.env.FAKE_NVML_GPU_COUNT = '2';
    process.env.FAKE_NVML_PROCESSES = `0:812345:${GIB},1:812346:${GIB}`;
    const source = open(library, procRootIn('pid:[4026532999]', [7]));
    for (let n = 0; n < 3; n++) {
      const values = flat(source, new Set([7]));
      expect(values).not.toHaveProperty('gpu_0_proc_mem_used_bytes');
      expect(values).not.toHaveProperty('gpu_1_proc_mem_used_bytes');
      expect(values['gpu_0_mem_used_bytes']).toBe(GIB);
    }
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('PID namespace');
    expect(warnings[0]).toContain('gpu_<i>_proc_mem_used_bytes');
  });

  test('in a container that sees the pids (--pid=host), and in the root namespace, the sum is measured', (context) => {
    if (!library) return context.skip();
    process.env.FAKE_NVML_GPU_COUNT = '1';
    process.env.FAKE_NVML_PROCESSES = `0:812345:${GIB}`;
    const shared = open(library, procRootIn('pid:[4026532999]', [812345]));
    expect(flat(shared, new Set([812345]))['gpu_0_proc_mem_used_bytes']).toBe(GIB);
    const host = open(library, procRootIn('pid:[4026531836]', []));
    expect(flat(host, new Set([7]))['gpu_0_proc_mem_used_bytes']).toBe(0);
    expect(warnings).toEqual([]);
  });
});

describe('memory and temperature as nvidia-smi shows them', () => {
  test('memory used comes from nvmlDeviceGetMemoryInfo_v2 (reserved memory not counted), temperature from TemperatureV', (context) => {
    if (!library) return context.skip();
    process.env.FAKE_NVML_GPU_COUNT = '2';
    const calls = fakeNvmlCalls(library);
    const source = open(library);
    calls.reset();
    expect(flat(source)).toEqual({ ...expectedGpuKeys(0), ...expectedGpuKeys(1) });
    expect(calls.count('nvmlDeviceGetMemoryInfo_v2')).toBe(2);
    expect(calls.count('nvmlDeviceGetMemoryInfo')).toBe(0);
    expect(calls.count('nvmlDeviceGetTemperatureV')).toBe(2);
    expect(calls.count('nvmlDeviceGetTemperature')).toBe(0);
  });

  test('a driver without MemoryInfo_v2 and TemperatureV falls back to the older calls without a warning', (context) => {
    const path = variant(['nvmlDeviceGetMemoryInfo_v2', 'nvmlDeviceGetTemperatureV']);
    if (!path) return context.skip();
    process.env.FAKE_NVML_GPU_COUNT = '1';
    const source = open(path);
    const values = flat(source);
    // v1 "used" is allocated + reserved (256 MiB in the fake).
    expect(values['gpu_0_mem_used_bytes']).toBe(GIB + 256 * MIB);
    expect(values['gpu_0_mem_total_bytes']).toBe(80 * GIB);
    expect(values['gpu_0_temp_c']).toBe(40);
    expect(warnings).toEqual([]);
  });
});

describe('PCIe without the 20 ms call', () => {
  test('with the byte counters (fields 197/198), rates come from their deltas and the throughput call is never made', (context) => {
    if (!library) return context.skip();
    process.env.FAKE_NVML_GPU_COUNT = '3';
    const calls = fakeNvmlCalls(library);
    calls.reset();
    const source = open(library);
    for (let n = 0; n < 4; n++) {
      const values = flat(source);
      for (let i = 0; i < 3; i++) {
        expect(values[`gpu_${i}_pcie_tx_bytes_per_s`]).toBe((1000 + i) * 1024);
        expect(values[`gpu_${i}_pcie_rx_bytes_per_s`]).toBe((2000 + i) * 1024);
      }
    }
    expect(calls.count('nvmlDeviceGetPcieThroughput')).toBe(0);
  });

  test('without the counters (before R570), the throughput call is made once per period per GPU and its answer repeated', (context) => {
    const path = variant([], ['NO_PCIE_COUNTERS']);
    if (!path) return context.skip();
    process.env.FAKE_NVML_GPU_COUNT = '2';
    const calls = fakeNvmlCalls(path);
    calls.reset();
    const source = open(path);
    for (let n = 0; n < 5; n++) {
      const values = flat(source);
      expect(values['gpu_1_pcie_tx_bytes_per_s']).toBe(1001 * 1024);
      expect(values['gpu_1_pcie_rx_bytes_per_s']).toBe(2001 * 1024);
    }
    // TX and RX once each per GPU in 5 quick samples (the period is 10 s).
    expect(calls.count('nvmlDeviceGetPcieThroughput')).toBe(2 * 2);
    expect(warnings).toEqual([]);
  });
});
