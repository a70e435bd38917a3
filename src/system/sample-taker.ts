/**
 * One sample of the host and the GPUs, taken where it is called: inside the sampler's worker
 * thread (src/system/sampler-worker.ts), never on the training thread. Owns the host source and
 * NVML; a problem is reported once per place through `report`.
 */
import fs from 'node:fs';
import type { SinkHealth } from '../health.js';
import { flattenGpus, flattenHost } from './keys/flatten.js';
import { GpuSource } from './nvml/gpu-source.js';
import type { GpuInfo } from './nvml/gpu-info.js';
import { ProcHostSource } from './proc-host-source.js';
import type { FlatValues, HostSample, HostSource } from './sample.js';
import { SiHostSource } from './si-host-source.js';

export interface SampleTakerOptions {
  gpu: boolean;
  nvmlLibrary?: string;
  outputDir: string;
  pid: number;
  cudaVisibleDevices?: string;
  source: 'auto' | 'proc' | 'systeminformation';
  procRoot?: string;
}

/** What crosses to the main thread: GPUs by index (the main thread keeps their GpuInfo objects). */
export interface Snapshot {
  readonly ts: number;
  readonly values: FlatValues;
  readonly host: HostSample;
  readonly gpus: ReadonlyArray<{ readonly index: number; readonly values: Float64Array }>;
}

export class SampleTaker {
  readonly host: HostSource;
  readonly gpuInfos: readonly GpuInfo[];
  private readonly gpuSource: GpuSource | undefined;
  private pid: number;

  constructor(
    options: SampleTakerOptions,
    health: SinkHealth,
    warn: (message: string) => void,
    report: (place: string, error: unknown) => void,
  ) {
    this.pid = options.pid;
    const { source, outputDir, procRoot } = options;
    const useProc = source === 'proc' || (source === 'auto' && fs.existsSync(`${procRoot ?? '/proc'}/stat`));
    this.host = useProc
      ? new ProcHostSource({ outputDir, pid: this.pid, procRoot, report })
      : new SiHostSource({ outputDir, pid: this.pid });
    this.gpuSource = options.gpu
      ? GpuSource.open({
          health,
          library: options.nvmlLibrary,
          cudaVisibleDevices: options.cudaVisibleDevices,
          warn,
          procRoot,
        })
      : undefined;
    this.gpuInfos = this.gpuSource?.infos ?? [];
  }

  watch(pid: number): void {
    this.pid = pid;
    this.host.setPid(pid);
  }

  /** Reads the host; the first call is the baseline of rates and "since start" totals. */
  readHost(): HostSample | Promise<HostSample> {
    return this.host.sample();
  }

  /** Adds the GPUs to the host's part and flattens both, once, into the keys every sink reads. */
  complete(host: HostSample): Snapshot {
    const tree = host.processTree.length > 0 ? host.processTree : [this.pid];
    const gpus = this.gpuSource?.sample(new Set(tree)) ?? [];
    const values: FlatValues = {};
    flattenHost(host, values);
    flattenGpus(gpus, values);
    return {
      ts: Date.now() / 1000,
      values,
      host,
      gpus: gpus.map((gpu) => ({ index: gpu.info.index, values: gpu.values })),
    };
  }

  /** nvmlShutdown and unload. */
  close(): void {
    this.gpuSource?.close();
  }
}
