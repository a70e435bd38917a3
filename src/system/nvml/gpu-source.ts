/**
 * GPU metrics through NVML, robust against every driver:
 * - Only five entry points are required. Each field's functions are looked up once; a missing one
 *   removes only that field's keys, with one warning naming the symbol.
 * - NOT_SUPPORTED is remembered per GPU and field: that field is never asked again on that GPU.
 * - NO_PERMISSION drops only that field (on that GPU), with one warning.
 * - GPU_IS_LOST drops every key of that GPU from then on and is reported once.
 * - Any other failure leaves the field out of that sample and warns once per GPU, field and code.
 */
import { errorText } from '../../errors.js';
import type { SinkHealth } from '../../health.js';
import { GPU_KEYS, gpuSlot } from '../keys/gpu-keys.js';
import type { GpuInfo } from './gpu-info.js';
import { GPU_QUERIES, deriveGpuKeys, type GpuQuery, type QueryContext } from './gpu-queries.js';
import { DEFAULT_NVML_LIBRARY, NvmlLibrary, type NativeBlock, type NvmlFunction } from './nvml-library.js';
import {
  NVML_ERROR_GPU_IS_LOST,
  NVML_ERROR_NO_PERMISSION,
  NVML_ERROR_NOT_SUPPORTED,
  NVML_SUCCESS,
} from './nvml-return.js';
import { resolveGpus } from './resolve-gpus.js';

/** One GPU's typed sample: `values[slot]` is the GPU_KEYS entry at that slot, NaN when absent. */
export interface GpuSample {
  readonly info: GpuInfo;
  readonly values: Float64Array;
}

export interface GpuSourceOptions {
  health: SinkHealth;
  /** Path or name of libnvidia-ml; default libnvidia-ml.so.1 through the loader's search path. */
  library?: string;
  /** CUDA_VISIBLE_DEVICES (undefined: every GPU). */
  cudaVisibleDevices?: string;
  /** Warnings that are not a sink going down (missing symbols, ignored CUDA_VISIBLE_DEVICES entries). */
  warn: (message: string) => void;
}

interface BoundQuery {
  readonly query: GpuQuery;
  readonly call: NvmlFunction;
  readonly variant: number;
  /** Position in the per-GPU `retired` flags. */
  readonly index: number;
  readonly slots: readonly number[];
}

interface Gpu {
  readonly info: GpuInfo;
  readonly device: number;
  /** 1 where a field answered NOT_SUPPORTED or NO_PERMISSION: never asked again. */
  readonly retired: Uint8Array;
  /** Answers of the read-once fields, NaN elsewhere; each sample starts from a copy. */
  readonly fixed: Float64Array;
  lost: boolean;
}

/** Sink name under which NVML problems are reported and exported as codex.sink.up. */
export const NVML_SINK = 'nvml';

/** A lost GPU goes down under its own health entry, so dashboards show which one. */
export const lostGpuSink = (index: number): string => `nvml_gpu_${index}`;

const NO_PIDS: ReadonlySet<number> = new Set();

export class GpuSource {
  private readonly nvml: NvmlLibrary;
  private readonly health: SinkHealth;
  private readonly warn: (message: string) => void;
  private readonly gpus: Gpu[];
  private readonly perSample: BoundQuery[] = [];
  private readonly reported = new Set<string>();
  private readonly context: QueryContext & { watched: ReadonlySet<number> };
  private processBlock: NativeBlock | undefined;
  private closed = false;

  private constructor(nvml: NvmlLibrary, options: GpuSourceOptions, gpus: Gpu[]) {
    this.nvml = nvml;
    this.health = options.health;
    this.warn = options.warn;
    this.gpus = gpus;
    this.context = { scratch: nvml.scratch, watched: NO_PIDS, block: (bytes) => this.block(bytes) };
  }

  /**
   * Loads and initializes NVML. Any failure of the required part marks the `nvml` sink down with
   * one warning and answers undefined: host metrics carry on without GPUs.
   */
  static open(options: GpuSourceOptions): GpuSource | undefined {
    const { health } = options;
    health.register(NVML_SINK);
    let nvml: NvmlLibrary;
    try {
      nvml = new NvmlLibrary(options.library);
    } catch (error) {
      // koffi's load and symbol errors carry no code; this constructor does nothing else that throws.
      health.markDown(
        NVML_SINK,
        `cannot load ${options.library ?? DEFAULT_NVML_LIBRARY} (${errorText(error)}); ` +
          'install the NVIDIA driver or set CODEX_NVML_LIBRARY, or unset CODEX_MONITORING_ENABLE_GPU',
      );
      return undefined;
    }
    const code = nvml.init();
    if (code !== NVML_SUCCESS) {
      health.markDown(NVML_SINK, `nvmlInit_v2 failed in ${nvml.path}: ${nvml.describe(code)}`);
      nvml.unload();
      return undefined;
    }
    const gpus = resolveGpus(nvml, options.cudaVisibleDevices, options.warn).map(
      ({ info, device, lost }): Gpu => ({
        info,
        device,
        lost,
        retired: new Uint8Array(GPU_QUERIES.length),
        fixed: new Float64Array(GPU_KEYS.length).fill(NaN),
      }),
    );
    const source = new GpuSource(nvml, options, gpus);
    for (const gpu of gpus) if (gpu.lost) source.reportLost(gpu);
    source.bindQueries();
    return source;
  }

  /** The GPUs being sampled (lost ones included, for their attributes). */
  get infos(): GpuInfo[] {
    return this.gpus.map((gpu) => gpu.info);
  }

  /**
   * One typed sample per GPU not lost. `watched` is the watched process tree (per-process GPU
   * memory counts only its pids).
   */
  sample(watched: ReadonlySet<number> = NO_PIDS): GpuSample[] {
    const samples: GpuSample[] = [];
    if (this.closed) return samples;
    this.context.watched = watched;
    for (const gpu of this.gpus) {
      if (gpu.lost) continue;
      const values = gpu.fixed.slice();
      this.run(gpu, this.perSample, values);
      if (gpu.lost) continue;
      deriveGpuKeys(values);
      samples.push({ info: gpu.info, values });
    }
    return samples;
  }

  /** nvmlShutdown and unload; idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.nvml.shutdown();
    this.nvml.unload();
  }

  /** Looks up every field's functions once; runs the read-once fields. */
  private bindQueries(): void {
    const once: BoundQuery[] = [];
    GPU_QUERIES.forEach((query, index) => {
      let bound: BoundQuery | undefined;
      for (let variant = 0; variant < query.symbols.length && !bound; variant++) {
        const call = this.nvml.optional(query.symbols[variant]);
        if (call) bound = { query, call, variant, index, slots: query.keys.map((key) => gpuSlot(key)) };
      }
      if (!bound) {
        this.warn(
          `codex-telemetry: ${this.nvml.path} has no ${query.symbols.join(' or ')} (an older or newer driver); ` +
            `${query.keys.map((key) => `gpu_<i>_${key}`).join(', ')} are left out, every other GPU metric carries on`,
        );
      } else if (query.once) {
        once.push(bound);
      } else {
        this.perSample.push(bound);
      }
    });
    for (const gpu of this.gpus) if (!gpu.lost) this.run(gpu, once, gpu.fixed);
  }

  private run(gpu: Gpu, queries: readonly BoundQuery[], values: Float64Array): void {
    const context = this.context;
    for (let i = 0; i < queries.length; i++) {
      const bound = queries[i];
      if (gpu.retired[bound.index] === 1) continue;
      const code = bound.query.read(bound.call, bound.variant, context, gpu.device, values);
      if (code === NVML_SUCCESS) continue;
      for (const slot of bound.slots) values[slot] = NaN;
      this.failed(gpu, bound.query, bound.index, code);
      if (gpu.lost) return;
    }
  }

  private failed(gpu: Gpu, query: GpuQuery, index: number, code: number): void {
    if (code === NVML_ERROR_NOT_SUPPORTED) {
      gpu.retired[index] = 1;
    } else if (code === NVML_ERROR_GPU_IS_LOST) {
      gpu.lost = true;
      this.reportLost(gpu);
    } else if (code === NVML_ERROR_NO_PERMISSION) {
      gpu.retired[index] = 1;
      this.warn(
        `codex-telemetry: NVML ${query.field} on GPU ${gpu.info.index}: ${this.nvml.describe(code)}; ` +
          `${query.keys.map((key) => `gpu_${gpu.info.index}_${key}`).join(', ')} left out from now on`,
      );
    } else {
      const kind = `${gpu.info.index}:${query.field}:${code}`;
      if (this.reported.has(kind)) return;
      this.reported.add(kind);
      this.warn(
        `codex-telemetry: NVML ${query.field} query on GPU ${gpu.info.index} failed: ${this.nvml.describe(code)}; left out of this sample`,
      );
    }
  }

  private reportLost(gpu: Gpu): void {
    const { index, uuid } = gpu.info;
    this.health.markDown(
      lostGpuSink(index),
      `GPU ${index}${uuid ? ` (${uuid})` : ''} is lost (NVML_ERROR_GPU_IS_LOST); its metrics stop, the other GPUs carry on`,
    );
  }

  /** The per-process buffer, grown to at least `bytes` (0: as it is, allocated on first use). */
  private block(bytes: number): NativeBlock {
    if (this.processBlock === undefined || this.processBlock.bytes < bytes) {
      this.processBlock = this.nvml.allocate(Math.max(bytes, 64 * 24));
    }
    return this.processBlock;
  }
}
