/**
 * GPU metrics through NVML. Opened once (load, init, resolve the visible devices), then each sample
 * makes a dozen calls per GPU. A field that answers NOT_SUPPORTED is never asked again and stays
 * absent; a GPU that answers GPU_IS_LOST is reported once and skipped from then on.
 */
import type { SinkHealth } from '../../pipeline/sink-health.js';
import type { FlatValues } from '../sample.js';
import { parseCudaVisibleDevices } from './cuda-visible-devices.js';
import type { GpuInfo } from './gpu-info.js';
import {
  DEFAULT_NVML_LIBRARY,
  NvmlLibrary,
  type NvmlDevice,
  type NvmlMemory,
  type NvmlUtilization,
} from './nvml-library.js';
import {
  NVML_AGGREGATE_ECC,
  NVML_CLOCK_GRAPHICS,
  NVML_CLOCK_MEM,
  NVML_CLOCK_SM,
  NVML_DEVICE_NAME_V2_BUFFER_SIZE,
  NVML_DEVICE_UUID_V2_BUFFER_SIZE,
  NVML_ERROR_GPU_IS_LOST,
  NVML_ERROR_INVALID_ARGUMENT,
  NVML_ERROR_NOT_FOUND,
  NVML_ERROR_NOT_SUPPORTED,
  NVML_MEMORY_ERROR_TYPE_CORRECTED,
  NVML_MEMORY_ERROR_TYPE_UNCORRECTED,
  NVML_SUCCESS,
  NVML_SYSTEM_DRIVER_VERSION_BUFFER_SIZE,
  NVML_TEMPERATURE_GPU,
} from './nvml-return.js';

/** Fields queried per GPU; each can be unsupported on its own (fans on data-centre GPUs, ECC on consumer ones). */
type Field =
  | 'util'
  | 'memory'
  | 'temp'
  | 'power'
  | 'power_limit'
  | 'sm_clock'
  | 'mem_clock'
  | 'graphics_clock'
  | 'fan'
  | 'ecc';

export interface GpuSourceOptions {
  health: SinkHealth;
  /** Path or name of libnvidia-ml; default libnvidia-ml.so.1 through the loader's search path. */
  library?: string;
  /** CUDA_VISIBLE_DEVICES (undefined: every GPU). */
  cudaVisibleDevices?: string;
  /** Warnings that are not a sink going down (ignored CUDA_VISIBLE_DEVICES entries). */
  warn: (message: string) => void;
}

interface Gpu {
  readonly info: GpuInfo;
  readonly device: NvmlDevice;
  readonly unsupported: Set<Field>;
  lost: boolean;
}

/** Sink name under which NVML problems are reported and exported as codex.sink.up. */
export const NVML_SINK = 'nvml';

/** A lost GPU goes down under its own health entry, so dashboards show which one. */
export const lostGpuSink = (index: number): string => `nvml_gpu_${index}`;

export class GpuSource {
  private readonly nvml: NvmlLibrary;
  private readonly health: SinkHealth;
  private readonly warn: (message: string) => void;
  private readonly gpus: Gpu[];
  private closed = false;
  // Holders reused across calls: the sampling loop allocates no per-call objects of its own.
  private readonly uint: [number] = [0];
  private readonly u64: [number | bigint] = [0];
  private readonly utilization: NvmlUtilization = { gpu: 0, memory: 0 };
  private readonly memory: NvmlMemory = { total: 0, free: 0, used: 0 };
  private readonly reported = new Set<string>();

  private constructor(nvml: NvmlLibrary, options: GpuSourceOptions, gpus: Gpu[]) {
    this.nvml = nvml;
    this.health = options.health;
    this.warn = options.warn;
    this.gpus = gpus;
  }

  /**
   * Loads and initializes NVML. Any failure marks the `nvml` sink down with one warning and answers
   * undefined: host metrics carry on without GPUs.
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
        `cannot load ${options.library ?? DEFAULT_NVML_LIBRARY} (${(error as Error).message}); ` +
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
    const gpus = resolveGpus(nvml, options);
    const source = new GpuSource(nvml, options, gpus);
    for (const gpu of gpus) if (gpu.lost) source.reportLost(gpu);
    return source;
  }

  private reportLost(gpu: Gpu): void {
    const { index, uuid } = gpu.info;
    this.health.markDown(
      lostGpuSink(index),
      `GPU ${index}${uuid ? ` (${uuid})` : ''} is lost (NVML_ERROR_GPU_IS_LOST); its metrics stop, the other GPUs carry on`,
    );
  }

  /** The GPUs being sampled (lost ones included, for their attributes). */
  get infos(): GpuInfo[] {
    return this.gpus.map((gpu) => gpu.info);
  }

  /** Writes gpu_<i>_* keys for every GPU not lost. */
  sample(values: FlatValues): void {
    if (this.closed) return;
    for (const gpu of this.gpus) {
      if (!gpu.lost) this.sampleGpu(gpu, values);
    }
  }

  /** nvmlShutdown and unload; idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.nvml.shutdown();
    this.nvml.unload();
  }

  private sampleGpu(gpu: Gpu, values: FlatValues): void {
    const { device, info } = gpu;
    const prefix = `gpu_${info.index}_`;
    const nvml = this.nvml;
    if (this.ok(gpu, 'util', nvml.deviceGetUtilizationRates(device, this.utilization))) {
      values[`${prefix}util_percent`] = this.utilization.gpu;
      values[`${prefix}mem_util_percent`] = this.utilization.memory;
    }
    if (this.ok(gpu, 'memory', nvml.deviceGetMemoryInfo(device, this.memory))) {
      const used = Number(this.memory.used);
      const total = Number(this.memory.total);
      values[`${prefix}mem_used_bytes`] = used;
      values[`${prefix}mem_total_bytes`] = total;
      if (total > 0) values[`${prefix}mem_percent`] = (used / total) * 100;
    }
    if (this.ok(gpu, 'temp', nvml.deviceGetTemperature(device, NVML_TEMPERATURE_GPU, this.uint))) {
      values[`${prefix}temp_c`] = this.uint[0];
    }
    let power: number | undefined;
    if (this.ok(gpu, 'power', nvml.deviceGetPowerUsage(device, this.uint))) {
      power = this.uint[0] / 1000;
      values[`${prefix}power_w`] = power;
    }
    if (this.ok(gpu, 'power_limit', nvml.deviceGetEnforcedPowerLimit(device, this.uint))) {
      const limit = this.uint[0] / 1000;
      values[`${prefix}power_limit_w`] = limit;
      if (power !== undefined && limit > 0) values[`${prefix}power_percent`] = (power / limit) * 100;
    }
    this.clock(gpu, 'sm_clock', NVML_CLOCK_SM, values, `${prefix}sm_clock_mhz`);
    this.clock(gpu, 'mem_clock', NVML_CLOCK_MEM, values, `${prefix}mem_clock_mhz`);
    this.clock(gpu, 'graphics_clock', NVML_CLOCK_GRAPHICS, values, `${prefix}graphics_clock_mhz`);
    if (this.ok(gpu, 'fan', nvml.deviceGetFanSpeed(device, this.uint))) {
      values[`${prefix}fan_percent`] = this.uint[0];
    }
    this.ecc(gpu, NVML_MEMORY_ERROR_TYPE_CORRECTED, values, `${prefix}ecc_corrected`);
    this.ecc(gpu, NVML_MEMORY_ERROR_TYPE_UNCORRECTED, values, `${prefix}ecc_uncorrected`);
  }

  private clock(gpu: Gpu, field: Field, type: number, values: FlatValues, key: string): void {
    if (gpu.unsupported.has(field) || gpu.lost) return;
    if (this.ok(gpu, field, this.nvml.deviceGetClockInfo(gpu.device, type, this.uint)))
      values[key] = this.uint[0];
  }

  /** Aggregate counts (over the GPU's life), as `nvidia-smi -q` shows under "Aggregate". */
  private ecc(gpu: Gpu, errorType: number, values: FlatValues, key: string): void {
    if (gpu.unsupported.has('ecc') || gpu.lost) return;
    const code = this.nvml.deviceGetTotalEccErrors(gpu.device, errorType, NVML_AGGREGATE_ECC, this.u64);
    if (this.ok(gpu, 'ecc', code)) values[key] = Number(this.u64[0]);
  }

  /**
   * Whether a query succeeded. NOT_SUPPORTED retires the field for this GPU; GPU_IS_LOST retires the
   * GPU, with one warning; other failures drop the field for this sample and warn once per kind.
   */
  private ok(gpu: Gpu, field: Field, code: number): boolean {
    if (code === NVML_SUCCESS) return true;
    if (code === NVML_ERROR_NOT_SUPPORTED) {
      gpu.unsupported.add(field);
    } else if (code === NVML_ERROR_GPU_IS_LOST) {
      if (!gpu.lost) {
        gpu.lost = true;
        this.reportLost(gpu);
      }
    } else {
      const kind = `${gpu.info.index}:${field}:${code}`;
      if (!this.reported.has(kind)) {
        this.reported.add(kind);
        this.warn(
          `codex-telemetry: NVML ${field} query on GPU ${gpu.info.index} failed: ${this.nvml.describe(code)}; left out of this sample`,
        );
      }
    }
    return false;
  }
}

function readString(
  call: (buffer: Buffer, length: number) => number,
  size: number,
  onError?: (code: number) => void,
): string | undefined {
  const buffer = Buffer.alloc(size);
  const code = call(buffer, size);
  if (code !== NVML_SUCCESS) {
    onError?.(code);
    return undefined;
  }
  const end = buffer.indexOf(0);
  return buffer.toString('utf8', 0, end < 0 ? size : end);
}

/** The devices CUDA_VISIBLE_DEVICES names (all when unset), with their identity read once. */
function resolveGpus(nvml: NvmlLibrary, options: GpuSourceOptions): Gpu[] {
  const visible = parseCudaVisibleDevices(options.cudaVisibleDevices);
  for (const entry of visible.ignored) options.warn(`codex-telemetry: CUDA_VISIBLE_DEVICES entry ${entry}`);
  const driverVersion =
    readString((b, n) => nvml.systemGetDriverVersion(b, n), NVML_SYSTEM_DRIVER_VERSION_BUFFER_SIZE) ?? '';
  const count: [number] = [0];
  if (nvml.deviceGetCount(count) !== NVML_SUCCESS) return [];
  const all: Array<{ index: number; device: NvmlDevice; uuid: string; lost: boolean }> = [];
  for (let index = 0; index < count[0]; index++) {
    const holder: [NvmlDevice] = [null];
    if (nvml.deviceGetHandleByIndex(index, holder) !== NVML_SUCCESS) continue;
    let lost = false;
    const uuid = readString(
      (b, n) => nvml.deviceGetUUID(holder[0], b, n),
      NVML_DEVICE_UUID_V2_BUFFER_SIZE,
      (code) => (lost = code === NVML_ERROR_GPU_IS_LOST),
    );
    all.push({ index, device: holder[0], uuid: uuid ?? '', lost });
  }
  const chosen: typeof all = [];
  if (visible.devices === undefined) {
    chosen.push(...all);
  } else {
    for (const entry of visible.devices) {
      // CUDA stops at the first entry naming no device; so do we.
      const found =
        entry.kind === 'index'
          ? all.find((gpu) => gpu.index === entry.index)
          : findByUuid(nvml, all, entry.uuid);
      if (!found) {
        options.warn(
          `codex-telemetry: CUDA_VISIBLE_DEVICES names no GPU at "${entry.kind === 'index' ? entry.index : entry.uuid}"; later entries ignored, as CUDA does`,
        );
        break;
      }
      if (!chosen.includes(found)) chosen.push(found);
    }
  }
  return chosen.map(({ index, device, uuid, lost }) => ({
    info: {
      index,
      uuid,
      name: readString((b, n) => nvml.deviceGetName(device, b, n), NVML_DEVICE_NAME_V2_BUFFER_SIZE) ?? '',
      driverVersion,
    },
    device,
    unsupported: new Set<Field>(),
    lost,
  }));
}

/** A full UUID through nvmlDeviceGetHandleByUUID; a prefix (CUDA accepts a unique one) by comparison. */
function findByUuid<T extends { index: number; uuid: string }>(
  nvml: NvmlLibrary,
  all: T[],
  uuid: string,
): T | undefined {
  const holder: [NvmlDevice] = [null];
  const code = nvml.deviceGetHandleByUUID(uuid, holder);
  if (code === NVML_SUCCESS) {
    const exact = all.find((gpu) => gpu.uuid === uuid);
    if (exact) return exact;
  } else if (code !== NVML_ERROR_NOT_FOUND && code !== NVML_ERROR_INVALID_ARGUMENT) {
    return undefined;
  }
  const matches = all.filter((gpu) => gpu.uuid.toLowerCase().startsWith(uuid.toLowerCase()));
  return matches.length === 1 ? matches[0] : undefined;
}
