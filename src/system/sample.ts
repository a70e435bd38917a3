/**
 * What one system sample carries: the typed parts sources return (CPU modes, interfaces, disks,
 * GPUs) and the flat keys of docs/system-keys.md, mapped from them once (src/system/keys/flatten.ts).
 */
import type { GpuSample } from './nvml/gpu-source.js';
import type { CpuMode } from './proc/parse-stat.js';

export type FlatValues = Record<string, number>;
export type { GpuSample } from './nvml/gpu-source.js';

/** Per-interface bytes since the sampler started, for `system.network.io{network.interface.name}`. */
export interface InterfaceIo {
  readonly name: string;
  readonly sentBytes: number;
  readonly recvBytes: number;
}

/** Per-disk bytes since the sampler started, for `system.disk.io{system.device}`. */
export interface DiskIo {
  readonly name: string;
  readonly readBytes: number;
  readonly writeBytes: number;
}

export interface SystemSample {
  /** Unix seconds when the sample was taken. */
  readonly ts: number;
  /** 0, 1, 2, ... in sampling order; the row's step in file sinks. */
  readonly seq: number;
  /** Flat keys; a key that could not be measured is absent, never 0. */
  readonly values: Readonly<FlatValues>;
  /** Fraction of CPU time (0..1) per mode over the last interval; absent before two reads. */
  readonly cpuModes?: Readonly<Partial<Record<CpuMode, number>>>;
  readonly interfaces: readonly InterfaceIo[];
  readonly disks: readonly DiskIo[];
  /** GPUs not lost, in sampling order. */
  readonly gpus: readonly GpuSample[];
}

/** One host source (/proc, or systeminformation where /proc does not exist). */
export interface HostSource {
  readonly name: 'proc' | 'systeminformation';
  /** Writes what it measured into `values`; the first call sets the baseline for rates and totals. */
  sample(values: FlatValues): HostExtras | Promise<HostExtras>;
  /** Watches another process tree (the bridge's child) from the next sample on. */
  setPid(pid: number): void;
}

export interface HostExtras {
  cpuModes?: Partial<Record<CpuMode, number>>;
  interfaces: InterfaceIo[];
  disks: DiskIo[];
  /** Pids of the watched process tree at this sample (for per-process GPU memory). */
  processTree: readonly number[];
}

/** Warns once per distinct problem; the sampler passes one that goes through SinkHealth. */
export type ProblemReporter = (source: string, error: unknown) => void;
