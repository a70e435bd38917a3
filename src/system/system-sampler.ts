/**
 * The background system sampler: every `intervalSeconds` it reads the host (from /proc, or
 * systeminformation where /proc does not exist) and, when enabled, the GPUs through NVML, then hands
 * one flat snapshot to `onSample` and keeps it for observable instruments. NVML is loaded only when
 * `gpu` is true, in start(). Runtime problems are reported once each, never thrown out of the timer.
 */
import fs from 'node:fs';
import { ConfigError, errorText } from '../errors.js';
import { defaultWarn, type SinkHealth } from '../health.js';
import { flattenGpus, flattenHost } from './keys/flatten.js';
import { GpuSource } from './nvml/gpu-source.js';
import type { GpuInfo } from './nvml/gpu-info.js';
import { ProcHostSource } from './proc-host-source.js';
import type { FlatValues, HostSample, HostSource, SystemSample } from './sample.js';
import { SiHostSource } from './si-host-source.js';

export type { GpuInfo } from './nvml/gpu-info.js';
export type { GpuSample, SystemSample } from './sample.js';

/** Health entry of the sampler itself. */
export const SYSTEM_SINK = 'system';

export interface SystemSamplerOptions {
  /** Seconds between samples; > 0 (interval 0 means: do not construct a sampler). */
  intervalSeconds: number;
  /** Sample NVIDIA GPUs through NVML. */
  gpu: boolean;
  /** libnvidia-ml path (CODEX_NVML_LIBRARY); default libnvidia-ml.so.1. */
  nvmlLibrary?: string;
  /** Directory whose filesystem usage is reported (the output dir). */
  outputDir: string;
  /** Root of the process tree to watch; default this process. */
  pid?: number;
  health: SinkHealth;
  onSample: (sample: SystemSample) => void;
  /** CUDA_VISIBLE_DEVICES; undefined samples every GPU. */
  cudaVisibleDevices?: string;
  /** Where one-off warnings go; default process.emitWarning. */
  warn?: (message: string) => void;
  /** Host source: 'auto' picks /proc when it exists, else systeminformation. */
  source?: 'auto' | 'proc' | 'systeminformation';
  /** Where procfs is mounted (tests). */
  procRoot?: string;
}

export class SystemSampler {
  private readonly options: SystemSamplerOptions;
  private readonly intervalMs: number;
  private readonly warn: (message: string) => void;
  private readonly reported = new Set<string>();
  private host: HostSource | undefined;
  private gpuSource: GpuSource | undefined;
  /** Kept after stop(): the last sample still holds these GPUs' values. */
  private gpuInfos: readonly GpuInfo[] = [];
  private pid: number;
  private timer: NodeJS.Timeout | undefined;
  private startedAt = 0;
  /** Index of the tick now scheduled: tick k is due at startedAt + k·interval. */
  private tickIndex = 0;
  private seq = 0;
  private inFlight = false;
  private running = false;
  private stopped = false;
  private last: SystemSample | undefined;

  constructor(options: SystemSamplerOptions) {
    const interval = options.intervalSeconds;
    if (typeof interval !== 'number' || !Number.isFinite(interval) || interval <= 0) {
      throw new ConfigError(
        'systemMetricsInterval',
        interval,
        'a number of seconds > 0 (0 disables the sampler)',
      );
    }
    this.options = options;
    this.intervalMs = interval * 1000;
    this.warn = options.warn ?? defaultWarn;
    this.pid = options.pid ?? process.pid;
    options.health.register(SYSTEM_SINK);
  }

  /** Takes the baseline read, opens NVML when enabled, and schedules samples. Idempotent. */
  start(): void {
    if (this.running || this.stopped) return;
    this.running = true;
    this.host = this.createHost();
    if (this.options.gpu) {
      this.gpuSource = GpuSource.open({
        health: this.options.health,
        library: this.options.nvmlLibrary,
        cudaVisibleDevices: this.options.cudaVisibleDevices,
        warn: this.warn,
      });
      this.gpuInfos = this.gpuSource?.infos ?? [];
    }
    // The first read is the baseline for rates and "since start" totals; it is not emitted.
    this.guard('baseline', () => {
      const baseline = this.host!.sample();
      if (baseline instanceof Promise) {
        this.inFlight = true;
        baseline
          .catch((error: unknown) => this.report('baseline', error))
          .finally(() => (this.inFlight = false));
      }
    });
    this.startedAt = performance.now();
    this.schedule(1);
  }

  /** Stops the timer and releases NVML (nvmlShutdown). Idempotent; a stopped sampler stays stopped. */
  stop(): void {
    this.stopped = true;
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.gpuSource?.close();
    this.gpuSource = undefined;
  }

  /** The last sample taken, for observable instruments; undefined before the first. */
  latest(): SystemSample | undefined {
    return this.last;
  }

  /** GPUs being sampled (empty without NVML). */
  get gpus(): readonly GpuInfo[] {
    return this.gpuInfos;
  }

  /** Name of the host source in use, once started. */
  get sourceName(): HostSource['name'] | undefined {
    return this.host?.name;
  }

  /** Watches another process tree (the bridge's child) from the next sample on. */
  watch(pid: number | undefined): void {
    this.pid = pid ?? process.pid;
    this.host?.setPid(this.pid);
  }

  private createHost(): HostSource {
    const { source = 'auto', outputDir, procRoot } = this.options;
    const useProc = source === 'proc' || (source === 'auto' && fs.existsSync(`${procRoot ?? '/proc'}/stat`));
    if (useProc) {
      return new ProcHostSource({
        outputDir,
        pid: this.pid,
        procRoot,
        report: (part, error) => this.report(part, error),
      });
    }
    return new SiHostSource({ outputDir, pid: this.pid });
  }

  /** Next tick k is due at start + k·interval, so a slow sample never pushes later ones back. */
  private schedule(k: number): void {
    this.tickIndex = k;
    const delay = Math.max(0, this.startedAt + k * this.intervalMs - performance.now());
    this.timer = setTimeout(() => this.tick(), delay);
    this.timer.unref();
  }

  private tick(): void {
    if (!this.running) return;
    // Ticks missed while the event loop was blocked are skipped, not bunched up. A timer may fire a
    // fraction of a millisecond early, so the next tick is never before the one after this.
    const elapsed = performance.now() - this.startedAt;
    this.schedule(Math.max(this.tickIndex + 1, Math.floor(elapsed / this.intervalMs) + 1));
    if (this.inFlight) return;
    this.guard('sample', () => {
      const host = this.host!.sample();
      if (host instanceof Promise) {
        this.inFlight = true;
        host
          .then((resolved) => this.emit(resolved))
          .catch((error: unknown) => this.report('sample', error))
          .finally(() => (this.inFlight = false));
      } else {
        this.emit(host);
      }
    });
  }

  /** Adds the GPUs to the host's sample and flattens both, once, into the keys every sink reads. */
  private emit(host: HostSample): void {
    if (!this.running) return;
    const tree = host.processTree.length > 0 ? host.processTree : [this.pid];
    const gpus = this.gpuSource?.sample(new Set(tree)) ?? [];
    const values: FlatValues = {};
    flattenHost(host, values);
    flattenGpus(gpus, values);
    const sample: SystemSample = {
      ts: Date.now() / 1000,
      seq: this.seq++,
      values,
      host,
      cpuModes: host.cpu?.modes,
      interfaces: host.interfaces,
      disks: host.disks,
      gpus,
    };
    this.last = sample;
    this.guard('onSample', () => this.options.onSample(sample));
  }

  /**
   * Runs timer-side work. An error here must not escape a timer (it would end the training run),
   * so it is reported once per place and sampling goes on.
   */
  private guard(place: string, body: () => void): void {
    try {
      body();
    } catch (error) {
      this.report(place, error);
    }
  }

  private report(place: string, error: unknown): void {
    const message = errorText(error);
    const key = `${place}:${message}`;
    if (this.reported.has(key)) return;
    this.reported.add(key);
    this.warn(
      `codex-telemetry: system metrics: ${place} failed (${message}); the affected keys are left out`,
    );
  }
}
