/**
 * System and GPU samples as OpenTelemetry observable instruments with semantic-convention names and
 * units (FORMATS.md). Every callback reads the sampler's cached latest sample: a scrape never reads
 * /proc or calls NVML. One batch callback serves all instruments, so a collection sees one sample.
 */
import type { Attributes, BatchObservableResult, Meter, Observable } from '@opentelemetry/api';
import { ValueType } from '@opentelemetry/api';
import type { CpuMode } from '../system/proc/parse-stat.js';
import type { GpuInfo, SystemSample } from '../system/system-sampler.js';
import { GpuInstruments } from './gpu-instruments.js';

/** What the instruments need of a SystemSampler. */
export interface SampleSource {
  latest(): SystemSample | undefined;
  readonly gpus: readonly GpuInfo[];
  /** Samples skipped (a sample outran the interval) or lost (this thread blocked past the ring). */
  readonly stats?: { readonly skipped: number };
}

/** `codex_system_samples_skipped_total` in Prometheus. */
export const METRIC_SYSTEM_SAMPLES_SKIPPED = 'codex.system.samples.skipped';

export interface SystemInstrumentsHandle {
  /** Removes the batch callback; the instruments then report nothing. Idempotent. */
  unregister(): void;
}

/** /proc/stat modes → semantic-convention `cpu.mode` values (irq and softirq are both `interrupt`). */
const CPU_MODE_ATTRS: ReadonlyArray<[CpuMode[], Attributes]> = [
  [['user'], { 'cpu.mode': 'user' }],
  [['nice'], { 'cpu.mode': 'nice' }],
  [['system'], { 'cpu.mode': 'system' }],
  [['idle'], { 'cpu.mode': 'idle' }],
  [['iowait'], { 'cpu.mode': 'iowait' }],
  [['irq', 'softirq'], { 'cpu.mode': 'interrupt' }],
  [['steal'], { 'cpu.mode': 'steal' }],
];

const USED = { 'system.memory.state': 'used' };
const FREE = { 'system.memory.state': 'free' };
const FS_USED = { 'system.filesystem.state': 'used' };
const FS_FREE = { 'system.filesystem.state': 'free' };
const PAGING_USED = { 'system.paging.state': 'used' };
const PAGING_FREE = { 'system.paging.state': 'free' };

export function registerSystemInstruments(meter: Meter, sampler: SampleSource): SystemInstrumentsHandle {
  const gauge = (name: string, unit: string, description: string) =>
    meter.createObservableGauge(name, { unit, description });
  const upDown = (name: string, unit: string, description: string, valueType = ValueType.DOUBLE) =>
    meter.createObservableUpDownCounter(name, { unit, description, valueType });
  const counter = (name: string, unit: string, description: string) =>
    meter.createObservableCounter(name, { unit, description });

  const cpuUtilization = gauge('system.cpu.utilization', '1', 'Fraction of CPU time per mode, all CPUs');
  const load1 = gauge('system.cpu.load_average.1m', '{run_queue_item}', 'Load average over 1 minute');
  const load5 = gauge('system.cpu.load_average.5m', '{run_queue_item}', 'Load average over 5 minutes');
  const load15 = gauge('system.cpu.load_average.15m', '{run_queue_item}', 'Load average over 15 minutes');
  const memoryUsage = upDown('system.memory.usage', 'By', 'Memory in use and available (MemAvailable)');
  const memoryLimit = upDown('system.memory.limit', 'By', 'Total memory');
  const memoryUtilization = gauge('system.memory.utilization', '1', 'Fraction of memory in use');
  const pagingUsage = upDown('system.paging.usage', 'By', 'Swap in use and free');
  const filesystemUsage = upDown('system.filesystem.usage', 'By', 'Filesystem of the output directory');
  const filesystemUtilization = gauge(
    'system.filesystem.utilization',
    '1',
    'Filesystem of the output directory',
  );
  const diskIo = counter('system.disk.io', 'By', 'Disk bytes since the sampler started');
  const networkIo = counter(
    'system.network.io',
    'By',
    'Network bytes since the sampler started (no loopback)',
  );
  const processCpu = gauge('process.cpu.utilization', '1', 'CPU of the watched process tree, all CPUs');
  const processMemory = upDown('process.memory.usage', 'By', 'Resident memory of the watched process tree');
  // The semantic conventions' process.thread.count / process.open_file_descriptor.count would end in
  // `_count` in Prometheus, which promtool rejects for a non-histogram; these are the conventions'
  // earlier names for the same measurements.
  const processThreads = upDown(
    'process.threads',
    '{thread}',
    'Threads of the watched process tree',
    ValueType.INT,
  );
  const processFds = upDown(
    'process.open_file_descriptors',
    '{file_descriptor}',
    'Open file descriptors of the watched process tree',
    ValueType.INT,
  );
  const samplesSkipped = meter.createObservableCounter(METRIC_SYSTEM_SAMPLES_SKIPPED, {
    unit: '{sample}',
    description:
      'System samples skipped because the one before outran the interval, or lost because the training thread was blocked longer than the sample ring holds',
    valueType: ValueType.INT,
  });
  const gpu = new GpuInstruments(meter);

  const observables: Observable[] = [
    cpuUtilization,
    load1,
    load5,
    load15,
    memoryUsage,
    memoryLimit,
    memoryUtilization,
    pagingUsage,
    filesystemUsage,
    filesystemUtilization,
    diskIo,
    networkIo,
    processCpu,
    processMemory,
    processThreads,
    processFds,
    samplesSkipped,
    ...gpu.observables,
  ];

  const callback = (result: BatchObservableResult): void => {
    // Counted from the start, before the first sample too: a sampler whose every sample is skipped shows it.
    if (sampler.stats) result.observe(samplesSkipped, sampler.stats.skipped);
    const sample = sampler.latest();
    if (!sample) return;
    const { load, memory, swap, filesystem, process } = sample.host;
    /** Observes only keys that were measured: an absent key stays absent, never 0. */
    const put = (
      observable: Observable,
      value: number | undefined,
      attributes?: Attributes,
      scale = 1,
    ): void => {
      if (value !== undefined) result.observe(observable, value * scale, attributes);
    };
    if (sample.cpuModes) {
      for (const [modes, attributes] of CPU_MODE_ATTRS) {
        let fraction: number | undefined;
        for (const mode of modes) {
          const part = sample.cpuModes[mode];
          if (part !== undefined) fraction = (fraction ?? 0) + part;
        }
        put(cpuUtilization, fraction, attributes);
      }
    }
    put(load1, load?.load1);
    put(load5, load?.load5);
    put(load15, load?.load15);
    if (memory) {
      put(memoryUsage, memory.usedBytes, USED);
      put(memoryUsage, memory.availableBytes, FREE);
      put(memoryLimit, memory.totalBytes);
      put(memoryUtilization, memory.percent, USED, 0.01);
    }
    if (swap) {
      put(pagingUsage, swap.usedBytes, PAGING_USED);
      put(pagingUsage, swap.totalBytes - swap.usedBytes, PAGING_FREE);
    }
    if (filesystem) {
      put(filesystemUsage, filesystem.usedBytes, FS_USED);
      put(filesystemUsage, filesystem.totalBytes - filesystem.usedBytes, FS_FREE);
      put(filesystemUtilization, filesystem.percent, FS_USED, 0.01);
    }
    for (const disk of sample.disks) {
      put(diskIo, disk.readBytes, { 'system.device': disk.name, 'disk.io.direction': 'read' });
      put(diskIo, disk.writeBytes, { 'system.device': disk.name, 'disk.io.direction': 'write' });
    }
    for (const io of sample.interfaces) {
      put(networkIo, io.sentBytes, { 'network.interface.name': io.name, 'network.io.direction': 'transmit' });
      put(networkIo, io.recvBytes, { 'network.interface.name': io.name, 'network.io.direction': 'receive' });
    }
    put(processCpu, process?.cpuPercent, undefined, 0.01);
    put(processMemory, process?.rssBytes);
    put(processThreads, process?.threads);
    put(processFds, process?.openFds);
    gpu.observe(result, sample.gpus);
  };

  meter.addBatchObservableCallback(callback, observables);
  let registered = true;
  return {
    unregister(): void {
      if (!registered) return;
      registered = false;
      meter.removeBatchObservableCallback(callback, observables);
    },
  };
}
