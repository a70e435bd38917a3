/**
 * The NVML entry points the sampler uses, bound through koffi (FFI). koffi is required lazily, only
 * when GPU sampling is enabled, so a CPU-only run never loads a native module or libnvidia-ml.
 * Every function answers the raw nvmlReturn_t; outputs come back through small holder objects.
 */
import { createRequire } from 'node:module';
import type * as Koffi from 'koffi';
import type { IKoffiCType, IKoffiLib, KoffiFunction } from 'koffi';

/** The driver installs NVML as libnvidia-ml.so.1 on Linux and nvml.dll (on the PATH) on Windows. */
export const DEFAULT_NVML_LIBRARY = process.platform === 'win32' ? 'nvml.dll' : 'libnvidia-ml.so.1';

/** An nvmlDevice_t: koffi's external pointer to the library's opaque device struct. */
export type NvmlDevice = unknown;

export interface NvmlUtilization {
  gpu: number;
  memory: number;
}

export interface NvmlMemory {
  total: number | bigint;
  free: number | bigint;
  used: number | bigint;
}

interface Types {
  device: IKoffiCType;
  utilization: IKoffiCType;
  memory: IKoffiCType;
}

let koffiModule: typeof Koffi | undefined;
let types: Types | undefined;

/** koffi registers types process-wide and rejects a second definition: define ours once. */
function loadKoffi(): { koffi: typeof Koffi; types: Types } {
  koffiModule ??= createRequire(import.meta.url)('koffi') as typeof Koffi;
  const koffi = koffiModule;
  types ??= {
    device: koffi.pointer(koffi.opaque()),
    utilization: koffi.struct({ gpu: 'uint', memory: 'uint' }),
    memory: koffi.struct({ total: 'uint64', free: 'uint64', used: 'uint64' }),
  };
  return { koffi, types };
}

export class NvmlLibrary {
  readonly path: string;
  private readonly lib: IKoffiLib;
  readonly init: () => number;
  readonly shutdown: () => number;
  readonly errorString: (code: number) => string;
  readonly systemGetDriverVersion: (buffer: Buffer, length: number) => number;
  readonly deviceGetCount: (count: [number]) => number;
  readonly deviceGetHandleByIndex: (index: number, device: [NvmlDevice]) => number;
  readonly deviceGetHandleByUUID: (uuid: string, device: [NvmlDevice]) => number;
  readonly deviceGetName: (device: NvmlDevice, buffer: Buffer, length: number) => number;
  readonly deviceGetUUID: (device: NvmlDevice, buffer: Buffer, length: number) => number;
  readonly deviceGetUtilizationRates: (device: NvmlDevice, out: NvmlUtilization) => number;
  readonly deviceGetMemoryInfo: (device: NvmlDevice, out: NvmlMemory) => number;
  readonly deviceGetTemperature: (device: NvmlDevice, sensor: number, out: [number]) => number;
  readonly deviceGetPowerUsage: (device: NvmlDevice, out: [number]) => number;
  readonly deviceGetEnforcedPowerLimit: (device: NvmlDevice, out: [number]) => number;
  readonly deviceGetClockInfo: (device: NvmlDevice, type: number, out: [number]) => number;
  readonly deviceGetFanSpeed: (device: NvmlDevice, out: [number]) => number;
  readonly deviceGetTotalEccErrors: (
    device: NvmlDevice,
    errorType: number,
    counterType: number,
    out: [number | bigint],
  ) => number;

  /** Loads the library and binds every symbol; throws (koffi's Error) when either fails. */
  constructor(path: string = DEFAULT_NVML_LIBRARY) {
    const { koffi, types: t } = loadKoffi();
    this.path = path;
    this.lib = koffi.load(path);
    const uintOut = koffi.out(koffi.pointer('uint'));
    const fn = (name: string, args: Array<string | IKoffiCType>): KoffiFunction =>
      this.lib.func(name, 'int', args);
    this.init = fn('nvmlInit_v2', []);
    this.shutdown = fn('nvmlShutdown', []);
    this.errorString = this.lib.func('nvmlErrorString', 'const char *', ['int']);
    this.systemGetDriverVersion = fn('nvmlSystemGetDriverVersion', ['void *', 'uint']);
    this.deviceGetCount = fn('nvmlDeviceGetCount_v2', [uintOut]);
    this.deviceGetHandleByIndex = fn('nvmlDeviceGetHandleByIndex_v2', [
      'uint',
      koffi.out(koffi.pointer(t.device)),
    ]);
    this.deviceGetHandleByUUID = fn('nvmlDeviceGetHandleByUUID', [
      'const char *',
      koffi.out(koffi.pointer(t.device)),
    ]);
    this.deviceGetName = fn('nvmlDeviceGetName', [t.device, 'void *', 'uint']);
    this.deviceGetUUID = fn('nvmlDeviceGetUUID', [t.device, 'void *', 'uint']);
    this.deviceGetUtilizationRates = fn('nvmlDeviceGetUtilizationRates', [
      t.device,
      koffi.out(koffi.pointer(t.utilization)),
    ]);
    this.deviceGetMemoryInfo = fn('nvmlDeviceGetMemoryInfo', [t.device, koffi.out(koffi.pointer(t.memory))]);
    this.deviceGetTemperature = fn('nvmlDeviceGetTemperature', [t.device, 'int', uintOut]);
    this.deviceGetPowerUsage = fn('nvmlDeviceGetPowerUsage', [t.device, uintOut]);
    this.deviceGetEnforcedPowerLimit = fn('nvmlDeviceGetEnforcedPowerLimit', [t.device, uintOut]);
    this.deviceGetClockInfo = fn('nvmlDeviceGetClockInfo', [t.device, 'int', uintOut]);
    this.deviceGetFanSpeed = fn('nvmlDeviceGetFanSpeed', [t.device, uintOut]);
    this.deviceGetTotalEccErrors = fn('nvmlDeviceGetTotalEccErrors', [
      t.device,
      'int',
      'int',
      koffi.out(koffi.pointer('uint64')),
    ]);
  }

  /** "Not Supported (3)": NVML's own words and the code. */
  describe(code: number): string {
    return `${this.errorString(code)} (${code})`;
  }

  unload(): void {
    this.lib.unload();
  }
}
