/**
 * The binding's robustness rules, each proved with the fake library's per-function call counters
 * and its build variants that lack a function.
 */
import { afterEach, beforeAll, describe, expect, test } from 'vitest';
import { SinkHealth } from '../../src/health.js';
import { flattenGpus } from '../../src/system/keys/flatten.js';
import { GpuSource, NVML_SINK, lostGpuSink } from '../../src/system/nvml/gpu-source.js';
import type { FlatValues } from '../../src/system/sample.js';
import {
  FAKE_NVML_KNOBS,
  fakeNvmlCalls,
  fakeNvmlOrSkip,
  type FakeNvmlCalls,
} from '../fixtures/nvml/build.js';
import { expectedGpuKeys, fakeUuidOf } from '../fixtures/nvml/expected.js';

let library: string | undefined;
let calls: FakeNvmlCalls;
const warnings: string[] = [];
const opened: GpuSource[] = [];

beforeAll(() => {
  library = fakeNvmlOrSkip();
  if (library) calls = fakeNvmlCalls(library);
});

afterEach(() => {
  for (const source of opened.splice(0)) source.close();
  for (const knob of FAKE_NVML_KNOBS) delete process.env[knob];
  warnings.length = 0;
});

function open(path = library, cudaVisibleDevices?: string): { source: GpuSource; health: SinkHealth } {
  const health = new SinkHealth((message) => warnings.push(message));
  const source = GpuSource.open({ health, library: path, cudaVisibleDevices, warn: (m) => warnings.push(m) });
  if (!source) throw new Error(`fake NVML did not open: ${warnings.join('; ')}`);
  opened.push(source);
  return { source, health };
}

function flat(source: GpuSource, watched: ReadonlySet<number> = new Set()): FlatValues {
  const values: FlatValues = {};
  flattenGpus(source.sample(watched), values);
  return values;
}

const without = (keys: FlatValues, ...suffixes: string[]): FlatValues =>
  Object.fromEntries(Object.entries(keys).filter(([key]) => !suffixes.some((s) => key.endsWith(`_${s}`))));

describe('NOT_SUPPORTED is remembered per GPU and field', () => {
  test('with fans unsupported on 2 GPUs, 15 samples make at most 2 fan calls to them', (context) => {
    if (!library) return context.skip();
    process.env.FAKE_NVML_GPU_COUNT = '2';
    process.env.FAKE_NVML_UNSUPPORTED = 'fan';
    const { source } = open();
    calls.reset();
    for (let n = 0; n < 15; n++) expect(flat(source)['gpu_0_fan_percent']).toBeUndefined();
    expect(calls.count('nvmlDeviceGetFanSpeed')).toBeLessThanOrEqual(2);
    expect(calls.count('nvmlDeviceGetUtilizationRates')).toBe(30);
    expect(warnings).toEqual([]);
  });

  test('fans unsupported on GPUs 0 and 5 of 8 are asked once each there and every sample elsewhere', (context) => {
    if (!library) return context.skip();
    process.env.FAKE_NVML_UNSUPPORTED = 'fan@0,fan@5';
    const { source } = open();
    calls.reset();
    let last: FlatValues = {};
    for (let n = 0; n < 15; n++) last = flat(source);
    expect(calls.count('nvmlDeviceGetFanSpeed')).toBe(2 + 6 * 15);
    expect(last['gpu_0_fan_percent']).toBeUndefined();
    expect(last['gpu_5_fan_percent']).toBeUndefined();
    expect(last['gpu_1_fan_percent']).toBe(31);
  });

  test('retired pages are asked once on GPUs that remap rows instead, and remapped rows once on the others', (context) => {
    if (!library) return context.skip();
    process.env.FAKE_NVML_GPU_COUNT = '4';
    const { source } = open();
    calls.reset();
    for (let n = 0; n < 10; n++) flat(source);
    // Even GPUs answer NOT_SUPPORTED for retired pages (asked once, cause 0 only), odd ones for rows.
    expect(calls.count('nvmlDeviceGetRetiredPages')).toBe(2 * 1 + 2 * 2 * 10);
    expect(calls.count('nvmlDeviceGetRemappedRows')).toBe(2 * 1 + 2 * 10);
  });

  test('read-once fields (maximum clocks) are asked when NVML opens, never per sample', (context) => {
    if (!library) return context.skip();
    calls.reset();
    const { source } = open();
    for (let n = 0; n < 5; n++) expect(flat(source)['gpu_2_sm_clock_max_mhz']).toBe(1982);
    expect(calls.count('nvmlDeviceGetMaxClockInfo')).toBe(8 * 2);
  });
});

describe('a missing function removes only its keys', () => {
  test('a library built without nvmlDeviceGetTotalEccErrors keeps every other GPU metric, with one warning naming it', (context) => {
    const path = fakeNvmlOrSkip(['nvmlDeviceGetTotalEccErrors']);
    if (!path) return context.skip();
    const { source, health } = open(path);
    const expected: FlatValues = {};
    for (let i = 0; i < 8; i++) {
      Object.assign(
        expected,
        without(
          expectedGpuKeys(i),
          'ecc_corrected',
          'ecc_uncorrected',
          'ecc_corrected_volatile',
          'ecc_uncorrected_volatile',
        ),
      );
    }
    expect(flat(source)).toEqual(expected);
    expect(health.isUp(NVML_SINK)).toBe(true);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('has no nvmlDeviceGetTotalEccErrors');
    expect(warnings[0]).toContain('gpu_<i>_ecc_corrected');
    flat(source);
    expect(warnings).toHaveLength(1);
  });

  test('without nvmlDeviceGetHandleByUUID, GPUs are still sampled and UUIDs in CUDA_VISIBLE_DEVICES still match', (context) => {
    const path = fakeNvmlOrSkip(['nvmlDeviceGetHandleByUUID']);
    if (!path) return context.skip();
    const { source } = open(path, `${fakeUuidOf(4)},${fakeUuidOf(1)}`);
    expect(source.infos.map((gpu) => gpu.index)).toEqual([4, 1]);
    expect(flat(source)).toEqual({ ...expectedGpuKeys(4), ...expectedGpuKeys(1) });
    // Matching by comparison needs no warning: no key and no attribute is lost.
    expect(warnings).toEqual([]);
  });

  test('without nvmlDeviceGetName, GPUs keep every key, lose only hw.name, and one warning names the symbol', (context) => {
    const path = fakeNvmlOrSkip(['nvmlDeviceGetName']);
    if (!path) return context.skip();
    process.env.FAKE_NVML_GPU_COUNT = '2';
    const { source } = open(path);
    expect(source.infos.map((gpu) => gpu.name)).toEqual(['', '']);
    expect(source.infos[1].uuid).toBe(fakeUuidOf(1));
    expect(flat(source)).toEqual({ ...expectedGpuKeys(0), ...expectedGpuKeys(1) });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('has no nvmlDeviceGetName');
  });

  test('without the ClocksEvent name, the older ClocksThrottleReasons answers the same keys', (context) => {
    const path = fakeNvmlOrSkip(['nvmlDeviceGetCurrentClocksEventReasons']);
    if (!path) return context.skip();
    const { source } = open(path);
    expect(flat(source)).toEqual(
      Object.assign({}, ...[0, 1, 2, 3, 4, 5, 6, 7].map((i) => expectedGpuKeys(i))),
    );
    expect(warnings).toEqual([]);
  });

  test('the per-process call falls back from _v3 to _v2 to the unversioned one, reading each one’s layout', (context) => {
    if (!library) return context.skip();
    for (const omit of [
      ['nvmlDeviceGetComputeRunningProcesses_v3'],
      ['nvmlDeviceGetComputeRunningProcesses_v3', 'nvmlDeviceGetComputeRunningProcesses_v2'],
    ]) {
      const path = fakeNvmlOrSkip(omit)!;
      process.env.FAKE_NVML_GPU_COUNT = '2';
      process.env.FAKE_NVML_PROCESSES = `0:${process.pid}:3000000000,0:1:7000000000,1:4242:5,1:${process.pid}:123456789012`;
      const { source } = open(path);
      const values = flat(source, new Set([process.pid]));
      expect(values['gpu_0_proc_mem_used_bytes']).toBe(3000000000);
      expect(values['gpu_1_proc_mem_used_bytes']).toBe(123456789012);
      expect(warnings).toEqual([]);
      source.close();
    }
  });

  test('a library with none of the three per-process calls warns once, naming all three', (context) => {
    const path = fakeNvmlOrSkip([
      'nvmlDeviceGetComputeRunningProcesses_v3',
      'nvmlDeviceGetComputeRunningProcesses_v2',
      'nvmlDeviceGetComputeRunningProcesses',
    ]);
    if (!path) return context.skip();
    process.env.FAKE_NVML_GPU_COUNT = '1';
    const { source } = open(path);
    expect(flat(source)).toEqual(without(expectedGpuKeys(0), 'proc_mem_used_bytes'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /has no nvmlDeviceGetComputeRunningProcesses_v2 or nvmlDeviceGetComputeRunningProcesses_v3 or nvmlDeviceGetComputeRunningProcesses /,
    );
  });
});

describe('NO_PERMISSION and GPU_IS_LOST', () => {
  test('NO_PERMISSION on one field of one GPU drops only that field there, warns once and is not asked again', (context) => {
    if (!library) return context.skip();
    process.env.FAKE_NVML_GPU_COUNT = '3';
    process.env.FAKE_NVML_NO_PERMISSION = 'processes@1';
    const { source } = open();
    calls.reset();
    for (let n = 0; n < 5; n++) {
      expect(flat(source)).toEqual({
        ...expectedGpuKeys(0),
        ...without(expectedGpuKeys(1), 'proc_mem_used_bytes'),
        ...expectedGpuKeys(2),
      });
    }
    expect(calls.count('nvmlDeviceGetComputeRunningProcesses_v2')).toBe(1 + 2 * 5);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('GPU 1');
    expect(warnings[0]).toContain('Insufficient Permissions (4)');
    expect(warnings[0]).toContain('gpu_1_proc_mem_used_bytes');
  });

  test('GPU_IS_LOST in the middle of a sample drops every key of that GPU, warns once, and stops calling it', (context) => {
    if (!library) return context.skip();
    process.env.FAKE_NVML_GPU_COUNT = '3';
    process.env.FAKE_NVML_LOST_FIELD = 'temp@1';
    const { source, health } = open();
    calls.reset();
    for (let n = 0; n < 4; n++)
      expect(flat(source)).toEqual({ ...expectedGpuKeys(0), ...expectedGpuKeys(2) });
    expect(health.isUp(lostGpuSink(1))).toBe(false);
    expect(health.isUp(NVML_SINK)).toBe(true);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('GPU 1');
    // GPU 1 answered utilization once, then was lost at its temperature query, and never asked again.
    expect(calls.count('nvmlDeviceGetUtilizationRates')).toBe(2 * 4 + 1);
    expect(calls.count('nvmlDeviceGetTemperatureV')).toBe(2 * 4 + 1);
  });
});

describe('GPU memory of the watched process tree', () => {
  test('only pids of the watched tree count, NVML’s “not available” is skipped, and more processes than room are all read', (context) => {
    if (!library) return context.skip();
    process.env.FAKE_NVML_GPU_COUNT = '2';
    const foreign = Array.from({ length: 90 }, (_, k) => `0:${100000 + k}:1000`);
    process.env.FAKE_NVML_PROCESSES = [
      ...foreign,
      `0:${process.pid}:2147483648`,
      `0:4243:18446744073709551615`,
      `0:4244:1024`,
      `1:4244:18446744073709551615`,
    ].join(',');
    const { source } = open();
    const values = flat(source, new Set([process.pid, 4243, 4244]));
    expect(values['gpu_0_proc_mem_used_bytes']).toBe(2147483648 + 1024);
    expect(values['gpu_1_proc_mem_used_bytes']).toBe(0);
  });
});
