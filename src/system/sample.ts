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
  /** The same keys as two columns, when the sample came in that form (cheaper to make a row of). */
  readonly names?: readonly string[];
  readonly columns?: Float64Array;
  /** The typed host part the flat host keys were made from. */
  readonly host: Readonly<HostSample>;
  /** Fraction of CPU time (0..1) per mode over the last interval; absent before two reads. */
  readonly cpuModes?: Readonly<Partial<Record<CpuMode, number>>>;
  readonly interfaces: readonly InterfaceIo[];
  readonly disks: readonly DiskIo[];
  /** GPUs not lost, in sampling order. */
  readonly gpus: readonly GpuSample[];
}

/** CPU busy percentages over the last interval (0–100), with the per-mode fractions behind them. */
export interface CpuSample {
  readonly busyPercent: number;
  readonly userPercent: number;
  readonly systemPercent: number;
  /** Linux only. */
  readonly iowaitPercent?: number;
  /** Fraction of CPU time (0..1) per mode. */
  readonly modes?: Readonly<Partial<Record<CpuMode, number>>>;
}

/** The watched process tree, summed over its live members. */
export interface ProcessSample {
  /** Normalized by the CPU count; absent before two reads. */
  readonly cpuPercent?: number;
  readonly rssBytes: number;
  readonly memPercent?: number;
  /** Linux only. */
  readonly threads?: number;
  /** Linux only; absent when another user's process hides its descriptors. */
  readonly openFds?: number;
}

/** What a host source measured; a part that could not be read is absent. */
export interface HostSample {
  cpu?: CpuSample;
  load?: { readonly load1: number; readonly load5: number; readonly load15: number };
  memory?: {
    readonly usedBytes: number;
    readonly availableBytes: number;
    readonly totalBytes: number;
    readonly percent: number;
  };
  swap?: { readonly usedBytes: number; readonly totalBytes: number };
  /** The filesystem of the output directory. */
  filesystem?: { readonly usedBytes: number; readonly totalBytes: number; readonly percent: number };
  disks: DiskIo[];
  /** Totals over `interfaces` (loopback left out), since the sampler started. */
  network?: { readonly sentBytes: number; readonly recvBytes: number };
  interfaces: InterfaceIo[];
  process?: ProcessSample;
  /** Pids of the watched process tree at this sample (for per-process GPU memory). */
  processTree: readonly number[];
}

/** One host source (/proc, or systeminformation where /proc does not exist). */
export interface HostSource {
  readonly name: 'proc' | 'systeminformation';
  /** Measures the host; the first call sets the baseline for rates and totals. */
  sample(): HostSample | Promise<HostSample>;
  /** Watches another process tree (the bridge's child) from the next sample on. */
  setPid(pid: number): void;
}

/** Warns once per distinct problem; the sampler passes one that goes through SinkHealth. */
export type ProblemReporter = (source: string, error: unknown) => void;
