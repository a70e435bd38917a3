/**
 * GPU metrics through NVML, robust against every driver:
 * - Only five entry points are required. Each field's functions are looked up once; a missing one
 *   removes only that field's keys, with one warning naming the symbol.
 * - NOT_SUPPORTED is remembered per GPU and field: that field is never asked again on that GPU.
 * - NO_PERMISSION drops only that field (on that GPU), with one warning.
 * - GPU_IS_LOST drops every key of that GPU from then on and is reported once.
 * - Any other failure leaves the field out of that sample and warns once per GPU, field and code.
 */
import fs from 'node:fs';
import { errorText } from '../../errors.js';
import type { SinkHealth } from '../../health.js';
import { GPU_KEYS, gpuSlot } from '../keys/gpu-keys.js';
import type { GpuInfo } from './gpu-info.js';
import { GPU_QUERIES, deriveGpuKeys, type GpuQuery, type QueryContext } from './gpu-queries.js';
import { PIDS_NOT_VISIBLE, PROCESS_BUFFER_OVERRUN } from './gpu-query.js';
import { MAX_PROCESS_ENTRY_BYTES } from './gpu-activity-queries.js';
import { v3ProcessStride } from './process-info-stride.js';
import { DEFAULT_NVML_LIBRARY, NvmlLibrary, type NativeBlock, type NvmlFunction } from './nvml-library.js';
import {
  NVML_ERROR_GPU_IS_LOST,
  NVML_ERROR_NO_PERMISSION,
  NVML_ERROR_NOT_SUPPORTED,
  NVML_SUCCESS,
} from './nvml-return.js';
import { resolveGpus } from './resolve-gpus.js';
import { settingName } from '../../config/setting-name.js';

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
  /** Where procfs is mounted (tests): tells whether NVML's pids can be seen from this PID namespace. */
  procRoot?: string;
}

interface BoundQuery {
  readonly query: GpuQuery;
  readonly call: NvmlFunction;
  readonly variant: number;
  /** Position in the per-GPU `retired` flags. */
  readonly index: number;
  readonly slots: readonly number[];
  /** Index of the field this one stands in for (`fallbackFor`) when that one is bound, else -1. */
  readonly primary: number;
}

interface Gpu {
  readonly info: GpuInfo;
  readonly device: number;
  /** 1 where a field answered NOT_SUPPORTED or NO_PERMISSION: never asked again. */
  readonly retired: Uint8Array;
  /** Answers of the read-once fields, NaN elsewhere; each sample starts from a copy. */
  readonly fixed: Float64Array;
  /** Per field: what its query keeps between samples (QueryContext.carry). */
  readonly carry: Float64Array[];
  /** Per field with a period: when it was last asked (performance.now()), and its last answers by slot. */
  readonly lastAsked: Float64Array;
  readonly held: Float64Array;
  lost: boolean;
}

/** The root PID namespace's inode (the kernel's PROC_PID_INIT_INO); any other is a container's. */
const INIT_PID_NAMESPACE = 'pid:[4026531836]';
/** Bytes after the per-process buffer that the driver must never touch. */
const GUARD_BYTES = 64;
const GUARD_WORD = 0xa5a5a5a5;
const INITIAL_PROCESS_ENTRIES = 64;

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
  /** The guard words after processBlock's usable bytes. */
  private guard: Uint32Array | undefined;
  private readonly procRoot: string;
  private readonly ownPidNamespace: boolean;
  private closed = false;

  private constructor(nvml: NvmlLibrary, options: GpuSourceOptions, gpus: Gpu[]) {
    this.nvml = nvml;
    this.health = options.health;
    this.warn = options.warn;
    this.gpus = gpus;
    this.procRoot = options.procRoot ?? '/proc';
    this.ownPidNamespace = inOwnPidNamespace(this.procRoot);
    const driverVersion = gpus[0]?.info.driverVersion ?? '';
    this.context = {
      scratch: nvml.scratch,
      watched: NO_PIDS,
      block: (bytes) => this.block(bytes),
      guardIntact: () => this.guard === undefined || this.guard.every((word) => word === GUARD_WORD),
      v3ProcessStride: v3ProcessStride(driverVersion, (name) => nvml.optional(name) !== undefined),
      pidVisible: (pid) => !this.ownPidNamespace || fs.existsSync(`${this.procRoot}/${pid}`),
      carry: new Float64Array(0),
    };
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
          `install the NVIDIA driver or set ${settingName('nvmlLibrary')}, or turn GPU sampling off with ${settingName('monitoringEnableGpu', true)}`,
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
        carry: GPU_QUERIES.map(() => new Float64Array(4)),
        lastAsked: new Float64Array(GPU_QUERIES.length).fill(-Infinity),
        held: new Float64Array(GPU_KEYS.length).fill(NaN),
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

  /** Looks up every field's functions once; runs the read-once fields and the baselines of rates. */
  private bindQueries(): void {
    const once: BoundQuery[] = [];
    const baselines: BoundQuery[] = [];
    const boundFields = new Set<string>();
    GPU_QUERIES.forEach((query, index) => {
      let bound: BoundQuery | undefined;
      for (let variant = 0; variant < query.symbols.length && !bound; variant++) {
        const call = this.nvml.optional(query.symbols[variant]);
        const primary =
          query.fallbackFor === undefined ? -1 : GPU_QUERIES.findIndex((q) => q.field === query.fallbackFor);
        if (call) {
          bound = {
            query,
            call,
            variant,
            index,
            slots: query.keys.map((key) => gpuSlot(key)),
            primary: primary >= 0 && boundFields.has(query.fallbackFor!) ? primary : -1,
          };
        }
      }
      if (bound) boundFields.add(query.field);
      if (!bound) {
        // A field that only stands in for another is not missed while that other one answers.
        if (query.fallbackFor !== undefined && boundFields.has(query.fallbackFor)) return;
        this.warn(
          `codex-telemetry: ${this.nvml.path} has no ${query.symbols.join(' or ')} (an older or newer driver); ` +
            `${query.keys.map((key) => `gpu_<i>_${key}`).join(', ')} are left out, every other GPU metric carries on`,
        );
      } else if (query.once) {
        once.push(bound);
      } else {
        this.perSample.push(bound);
        if (query.baseline) baselines.push(bound);
      }
    });
    const scratchValues = new Float64Array(GPU_KEYS.length);
    for (const gpu of this.gpus) {
      if (!gpu.lost) this.run(gpu, once, gpu.fixed);
      if (!gpu.lost) this.run(gpu, baselines, scratchValues);
    }
  }

  private run(gpu: Gpu, queries: readonly BoundQuery[], values: Float64Array): void {
    const context = this.context;
    for (let i = 0; i < queries.length; i++) {
      const bound = queries[i];
      if (gpu.retired[bound.index] === 1) continue;
      // A stand-in is asked only where the field it stands in for is not supported.
      if (bound.primary >= 0 && gpu.retired[bound.primary] === 0) continue;
      const period = bound.query.periodMs;
      if (period !== undefined) {
        const now = performance.now();
        if (now - gpu.lastAsked[bound.index] < period) {
          for (const slot of bound.slots) values[slot] = gpu.held[slot];
          continue;
        }
        gpu.lastAsked[bound.index] = now;
      }
      context.carry = gpu.carry[bound.index];
      const code = bound.query.read(bound.call, bound.variant, context, gpu.device, values);
      if (period !== undefined)
        for (const slot of bound.slots) gpu.held[slot] = code === NVML_SUCCESS ? values[slot] : NaN;
      if (code === NVML_SUCCESS) continue;
      for (const slot of bound.slots) values[slot] = NaN;
      this.failed(gpu, bound.query, bound.index, code);
      if (gpu.lost) return;
    }
  }

  private failed(gpu: Gpu, query: GpuQuery, index: number, code: number): void {
    if (code === PIDS_NOT_VISIBLE) {
      if (this.reported.has('pids')) return;
      this.reported.add('pids');
      this.warn(
        'codex-telemetry: gpu_<i>_proc_mem_used_bytes is left out: this process runs in its own PID namespace ' +
          '(a container) and NVML reports host pids, none of which can be seen here; run the container with ' +
          "the host's PID namespace (docker --pid=host) to measure it",
      );
    } else if (code === PROCESS_BUFFER_OVERRUN) {
      // The driver wrote more than it was given room for: never trust this call again.
      gpu.retired[index] = 1;
      this.warn(
        `codex-telemetry: NVML ${query.symbols.join('/')} on GPU ${gpu.info.index} wrote past its buffer ` +
          '(a process-entry size this build does not know); gpu_<i>_proc_mem_used_bytes left out from now on',
      );
    } else if (code === NVML_ERROR_NOT_SUPPORTED) {
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

  /**
   * The per-process buffer, grown to at least `bytes` (0: as it is, allocated on first use), with
   * GUARD_BYTES of a known pattern after it, which a call that overran would have changed.
   */
  private block(bytes: number): NativeBlock {
    if (this.processBlock === undefined || this.processBlock.bytes < bytes) {
      const usable = Math.max(bytes, INITIAL_PROCESS_ENTRIES * MAX_PROCESS_ENTRY_BYTES);
      const whole = this.nvml.allocate(usable + GUARD_BYTES);
      this.guard = whole.u32.subarray(usable / 4);
      this.guard.fill(GUARD_WORD);
      this.processBlock = { ...whole, bytes: usable };
    }
    return this.processBlock;
  }
}

/** Whether procfs says this process is in a PID namespace other than the root one. */
function inOwnPidNamespace(procRoot: string): boolean {
  try {
    return fs.readlinkSync(`${procRoot}/self/ns/pid`) !== INIT_PID_NAMESPACE;
  } catch (error) {
    // No procfs (not Linux) or no namespace link: nothing says NVML's pids are foreign.
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EACCES' || code === 'EINVAL') return false;
    throw error;
  }
}
