import { afterEach, beforeAll, describe, expect, test } from 'vitest';
import { SinkHealth } from '../../src/health.js';
import { flattenGpus } from '../../src/system/keys/flatten.js';
import { GpuSource, NVML_SINK, lostGpuSink } from '../../src/system/nvml/gpu-source.js';
import type { FlatValues } from '../../src/system/sample.js';
import { FAKE_NVML_KNOBS, fakeNvmlInitCounter, fakeNvmlOrSkip } from '../fixtures/nvml/build.js';
import { expectedGpuKeys, fakeUuidOf } from '../fixtures/nvml/expected.js';

let library: string | undefined;
let initCount: () => number;
const warnings: string[] = [];
const opened: GpuSource[] = [];

beforeAll(() => {
  library = fakeNvmlOrSkip();
  if (library) initCount = fakeNvmlInitCounter(library);
});

afterEach(() => {
  for (const source of opened.splice(0)) source.close();
  for (const knob of FAKE_NVML_KNOBS) delete process.env[knob];
  warnings.length = 0;
});

function open(options: { cudaVisibleDevices?: string; library?: string } = {}): {
  source: GpuSource | undefined;
  health: SinkHealth;
} {
  const health = new SinkHealth((message) => warnings.push(message));
  const source = GpuSource.open({
    health,
    library: options.library ?? library,
    cudaVisibleDevices: options.cudaVisibleDevices,
    warn: (message) => warnings.push(message),
  });
  if (source) opened.push(source);
  return { source, health };
}

/** One sample, flattened as the sampler does. */
function flat(source: GpuSource, watched: ReadonlySet<number> = new Set()): FlatValues {
  const values: FlatValues = {};
  flattenGpus(source.sample(watched), values);
  return values;
}

const allExpected = (count: number): FlatValues =>
  Object.assign({}, ...Array.from({ length: count }, (_, i) => expectedGpuKeys(i)));

describe('GpuSource over the fake libnvidia-ml.so.1', () => {
  test('eight GPUs give every key with the exact values the library answers', (context) => {
    if (!library) return context.skip();
    const { source, health } = open();
    expect(health.isUp(NVML_SINK)).toBe(true);
    expect(flat(source!)).toEqual(allExpected(8));
    expect(warnings).toEqual([]);
  });

  test('each GPU is described by index, UUID, name and driver version', (context) => {
    if (!library) return context.skip();
    const { source } = open();
    expect(source!.infos).toHaveLength(8);
    expect(source!.infos[3]).toEqual({
      index: 3,
      uuid: fakeUuidOf(3),
      name: 'NVIDIA Fake GPU 3',
      driverVersion: '550.54.15',
    });
  });

  test('close() calls nvmlShutdown once, however often it is called', (context) => {
    if (!library) return context.skip();
    const before = initCount();
    const { source } = open();
    expect(initCount()).toBe(before + 1);
    source!.close();
    source!.close();
    expect(initCount()).toBe(before);
  });

  test('FAKE_NVML_GPU_COUNT sets how many GPUs are sampled', (context) => {
    if (!library) return context.skip();
    process.env.FAKE_NVML_GPU_COUNT = '2';
    const { source } = open();
    expect(flat(source!)).toEqual(allExpected(2));
  });

  test('a failing nvmlInit gives one warning naming NVML’s error, and no source', (context) => {
    if (!library) return context.skip();
    process.env.FAKE_NVML_FAIL_INIT = '1';
    const { source, health } = open();
    expect(source).toBeUndefined();
    expect(health.isUp(NVML_SINK)).toBe(false);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('nvmlInit_v2 failed');
    expect(warnings[0]).toContain('Driver Not Loaded (9)');
  });

  test('a library that cannot be loaded gives one warning and no source', () => {
    const { source, health } = open({ library: '/nonexistent/libnvidia-ml.so.1' });
    expect(source).toBeUndefined();
    expect(health.isUp(NVML_SINK)).toBe(false);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('/nonexistent/libnvidia-ml.so.1');
    expect(warnings[0]).toContain('CODEX_NVML_LIBRARY');
  });

  const unsupportedCases: Array<[string, string[]]> = [
    ['fan', ['fan_percent']],
    ['power', ['power_w', 'power_percent']],
    ['power_limit', ['power_limit_w', 'power_percent']],
    ['ecc', ['ecc_corrected', 'ecc_uncorrected', 'ecc_corrected_volatile', 'ecc_uncorrected_volatile']],
    ['util', ['util_percent', 'mem_util_percent']],
    ['memory', ['mem_used_bytes', 'mem_total_bytes', 'mem_percent']],
    ['temp', ['temp_c']],
    ['mem_temp', ['mem_temp_c']],
    ['energy', ['energy_j']],
    ['clocks', ['sm_clock_mhz', 'mem_clock_mhz', 'graphics_clock_mhz']],
    ['max_clocks', ['sm_clock_max_mhz', 'mem_clock_max_mhz']],
    ['pcie', ['pcie_tx_bytes_per_s', 'pcie_rx_bytes_per_s']],
    [
      'clock_events',
      ['clock_event_reasons', 'throttle_power_cap', 'throttle_thermal', 'throttle_hw_slowdown'],
    ],
    ['pstate', ['pstate']],
    [
      'remapped_rows',
      [
        'remapped_rows_correctable',
        'remapped_rows_uncorrectable',
        'remapped_rows_pending',
        'remapped_rows_failure',
      ],
    ],
    ['processes', ['proc_mem_used_bytes']],
    ['mig', ['mig_mode']],
  ];
  for (const [field, gone] of unsupportedCases) {
    test(`an unsupported ${field} leaves out exactly its keys, never reports 0, and warns nothing`, (context) => {
      if (!library) return context.skip();
      process.env.FAKE_NVML_GPU_COUNT = '1';
      process.env.FAKE_NVML_UNSUPPORTED = field;
      const { source } = open();
      const expected = expectedGpuKeys(0);
      for (const key of gone) delete expected[`gpu_0_${key}`];
      expect(flat(source!)).toEqual(expected);
      expect(flat(source!)).toEqual(expected);
      expect(warnings).toEqual([]);
    });
  }

  test('a lost GPU is reported once and skipped while the others carry on', (context) => {
    if (!library) return context.skip();
    process.env.FAKE_NVML_GPU_COUNT = '3';
    process.env.FAKE_NVML_LOST_GPU = '1';
    const { source, health } = open();
    // The lost GPU cannot even tell its UUID: it is reported when NVML is opened.
    expect(warnings).toHaveLength(1);
    for (let n = 0; n < 3; n++) {
      expect(flat(source!)).toEqual({ ...expectedGpuKeys(0), ...expectedGpuKeys(2) });
    }
    expect(health.isUp(lostGpuSink(1))).toBe(false);
    expect(health.isUp(NVML_SINK)).toBe(true);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('GPU 1 is lost (NVML_ERROR_GPU_IS_LOST)');
  });
});

describe('CUDA_VISIBLE_DEVICES', () => {
  const sampled = (cudaVisibleDevices: string | undefined): number[] =>
    open({ cudaVisibleDevices }).source!.infos.map((gpu) => gpu.index);

  test('indices select those GPUs, keyed by their NVML index', (context) => {
    if (!library) return context.skip();
    const { source } = open({ cudaVisibleDevices: '5,2' });
    expect(source!.infos.map((gpu) => gpu.index)).toEqual([5, 2]);
    expect(flat(source!)).toEqual({ ...expectedGpuKeys(5), ...expectedGpuKeys(2) });
  });

  test('full UUIDs and unique UUID prefixes select GPUs, as CUDA accepts both', (context) => {
    if (!library) return context.skip();
    expect(sampled(`${fakeUuidOf(6)},${fakeUuidOf(1)}`)).toEqual([6, 1]);
    // "GPU-fa4e0007" is a prefix of GPU 7's UUID alone; "GPU-fa4e000" of GPUs 0 to 7 alike.
    expect(fakeUuidOf(7).startsWith('GPU-fa4e0007')).toBe(true);
    expect(sampled('GPU-fa4e0007')).toEqual([7]);
    expect(sampled('GPU-FA4E0005,GPU-fa4e0002-0000')).toEqual([5, 2]);
    expect(sampled('GPU-fa4e000')).toEqual([]);
    expect(warnings.join('\n')).toContain('GPU-fa4e000');
  });

  test('an empty value hides every GPU; unset shows them all', (context) => {
    if (!library) return context.skip();
    expect(sampled('')).toEqual([]);
    expect(sampled(undefined)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  test('an invalid entry ends the list, as it does for CUDA, with a warning', (context) => {
    if (!library) return context.skip();
    expect(sampled('1,x,3')).toEqual([1]);
    expect(warnings.join('\n')).toContain('x,3');
    warnings.length = 0;
    expect(sampled('0,9,3')).toEqual([0]);
    expect(warnings.join('\n')).toContain('"9"');
  });
});
