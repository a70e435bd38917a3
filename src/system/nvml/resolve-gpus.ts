/**
 * The GPUs to sample: every one NVML counts, or those CUDA_VISIBLE_DEVICES names, with their
 * identity (UUID, name, driver version) read once. Name and UUID functions are optional: without
 * them a GPU is still sampled, with empty attributes.
 */
import { parseCudaVisibleDevices } from './cuda-visible-devices.js';
import type { GpuInfo } from './gpu-info.js';
import { readU64, type NvmlLibrary } from './nvml-library.js';
import {
  NVML_DEVICE_NAME_V2_BUFFER_SIZE,
  NVML_DEVICE_UUID_V2_BUFFER_SIZE,
  NVML_ERROR_GPU_IS_LOST,
  NVML_ERROR_INVALID_ARGUMENT,
  NVML_ERROR_NOT_FOUND,
  NVML_SUCCESS,
  NVML_SYSTEM_DRIVER_VERSION_BUFFER_SIZE,
} from './nvml-return.js';

export interface ResolvedGpu {
  readonly info: GpuInfo;
  /** nvmlDevice_t as an address. */
  readonly device: number;
  /** Answered GPU_IS_LOST while its identity was read. */
  readonly lost: boolean;
}

function readString(
  call: ((...args: unknown[]) => number) | undefined,
  args: unknown[],
  size: number,
  onError?: (code: number) => void,
): string | undefined {
  if (call === undefined) return undefined;
  const buffer = Buffer.alloc(size);
  const code = call(...args, buffer, size);
  if (code !== NVML_SUCCESS) {
    onError?.(code);
    return undefined;
  }
  const end = buffer.indexOf(0);
  return buffer.toString('utf8', 0, end < 0 ? size : end);
}

type AnyCall = (...args: unknown[]) => number;

export function resolveGpus(
  nvml: NvmlLibrary,
  cudaVisibleDevices: string | undefined,
  warn: (message: string) => void,
): ResolvedGpu[] {
  const visible = parseCudaVisibleDevices(cudaVisibleDevices);
  for (const entry of visible.ignored) warn(`codex-telemetry: CUDA_VISIBLE_DEVICES entry ${entry}`);
  const getName = nvml.optional('nvmlDeviceGetName') as AnyCall | undefined;
  const getUuid = nvml.optional('nvmlDeviceGetUUID') as AnyCall | undefined;
  const getDriver = nvml.optional('nvmlSystemGetDriverVersion') as AnyCall | undefined;
  const driverVersion = readString(getDriver, [], NVML_SYSTEM_DRIVER_VERSION_BUFFER_SIZE) ?? '';
  const count = nvml.deviceCount();
  if (count < 0) return [];
  const all: Array<{ index: number; device: number; uuid: string; lost: boolean }> = [];
  for (let index = 0; index < count; index++) {
    const device = nvml.handleByIndex(index);
    if (device < 0) continue;
    let lost = false;
    const uuid = readString(
      getUuid,
      [device],
      NVML_DEVICE_UUID_V2_BUFFER_SIZE,
      (code) => (lost = code === NVML_ERROR_GPU_IS_LOST),
    );
    all.push({ index, device, uuid: uuid ?? '', lost });
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
        warn(
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
      name: readString(getName, [device], NVML_DEVICE_NAME_V2_BUFFER_SIZE) ?? '',
      driverVersion,
    },
    device,
    lost,
  }));
}

/** A full UUID through nvmlDeviceGetHandleByUUID (where the library has it); a prefix by comparison. */
function findByUuid<T extends { index: number; uuid: string; device: number }>(
  nvml: NvmlLibrary,
  all: T[],
  uuid: string,
): T | undefined {
  const byUuid = nvml.optional('nvmlDeviceGetHandleByUUID') as AnyCall | undefined;
  if (byUuid !== undefined) {
    const code = byUuid(uuid, nvml.scratch.address);
    if (code === NVML_SUCCESS) {
      const device = readU64(nvml.scratch.u32, 0);
      const exact = all.find((gpu) => gpu.device === device);
      if (exact) return exact;
    } else if (code !== NVML_ERROR_NOT_FOUND && code !== NVML_ERROR_INVALID_ARGUMENT) {
      return undefined;
    }
  }
  // CUDA accepts a unique prefix of a UUID.
  const matches = all.filter((gpu) => gpu.uuid.toLowerCase().startsWith(uuid.toLowerCase()));
  return matches.length === 1 ? matches[0] : undefined;
}
