/**
 * libnvidia-ml bound through koffi (FFI), required lazily, only when GPU sampling is enabled, so a
 * CPU-only run never loads a native module or libnvidia-ml.
 *
 * Only the five entry points every NVML has are required (init, shutdown, error strings, device
 * count, handle by index); every other function is looked up when first asked for and may be
 * missing (an older or newer driver), which removes only the metrics it answers.
 *
 * Device handles and output pointers cross as plain numbers (addresses, declared uint64): koffi
 * then does no per-call type check or copy, which makes a call about 4x cheaper than passing
 * Buffers or out-holders. Outputs land in one native scratch block read through typed views.
 * Pointers and uint64 share registers in the x86-64 and arm64 C ABIs, the only ones koffi ships for Node.
 */
import { createRequire } from 'node:module';
import type * as Koffi from 'koffi';
import type { IKoffiLib } from 'koffi';

/** The driver installs NVML as libnvidia-ml.so.1 on Linux and nvml.dll (on the PATH) on Windows. */
export const DEFAULT_NVML_LIBRARY = process.platform === 'win32' ? 'nvml.dll' : 'libnvidia-ml.so.1';

/** An NVML function with every argument a number (handles and pointers as addresses). */
export type NvmlFunction = (...args: number[]) => number;

/** Argument types of the optional functions the sampler uses; pointers are addresses (uint64). */
const OPTIONAL_SIGNATURES: Readonly<Record<string, readonly string[]>> = {
  nvmlDeviceGetUtilizationRates: ['uint64', 'uint64'],
  nvmlDeviceGetMemoryInfo_v2: ['uint64', 'uint64'],
  nvmlDeviceGetMemoryInfo: ['uint64', 'uint64'],
  nvmlDeviceGetTemperatureV: ['uint64', 'uint64'],
  nvmlDeviceGetTemperature: ['uint64', 'int', 'uint64'],
  nvmlDeviceGetFieldValues: ['uint64', 'int', 'uint64'],
  nvmlDeviceGetPowerUsage: ['uint64', 'uint64'],
  nvmlDeviceGetEnforcedPowerLimit: ['uint64', 'uint64'],
  nvmlDeviceGetTotalEnergyConsumption: ['uint64', 'uint64'],
  nvmlDeviceGetClockInfo: ['uint64', 'int', 'uint64'],
  nvmlDeviceGetMaxClockInfo: ['uint64', 'int', 'uint64'],
  nvmlDeviceGetFanSpeed: ['uint64', 'uint64'],
  nvmlDeviceGetPcieThroughput: ['uint64', 'int', 'uint64'],
  nvmlDeviceGetCurrentClocksEventReasons: ['uint64', 'uint64'],
  nvmlDeviceGetCurrentClocksThrottleReasons: ['uint64', 'uint64'],
  nvmlDeviceGetPerformanceState: ['uint64', 'uint64'],
  nvmlDeviceGetTotalEccErrors: ['uint64', 'int', 'int', 'uint64'],
  nvmlDeviceGetRetiredPages: ['uint64', 'int', 'uint64', 'uint64'],
  nvmlDeviceGetRetiredPagesPendingStatus: ['uint64', 'uint64'],
  nvmlDeviceGetRemappedRows: ['uint64', 'uint64', 'uint64', 'uint64', 'uint64'],
  nvmlDeviceGetMigMode: ['uint64', 'uint64', 'uint64'],
  nvmlDeviceGetComputeRunningProcesses_v3: ['uint64', 'uint64', 'uint64'],
  nvmlDeviceGetComputeRunningProcesses_v2: ['uint64', 'uint64', 'uint64'],
  nvmlDeviceGetComputeRunningProcesses: ['uint64', 'uint64', 'uint64'],
  // Looked up only to tell which nvmlProcessInfo_t a _v3 driver fills (never called).
  nvmlDeviceGetConfComputeMemSizeInfo: ['uint64', 'uint64'],
  nvmlDeviceGetRunningProcessDetailList: ['uint64', 'uint64'],
  // Called once when NVML is opened; strings go through Buffers.
  nvmlSystemGetDriverVersion: ['void *', 'uint'],
  nvmlDeviceGetHandleByUUID: ['const char *', 'uint64'],
  nvmlDeviceGetName: ['uint64', 'void *', 'uint'],
  nvmlDeviceGetUUID: ['uint64', 'void *', 'uint'],
};

/** koffi's message for a symbol the library lacks (its errors carry no code to test instead). */
const MISSING_SYMBOL = /^Cannot find function/;

/** A block of native memory, seen from JavaScript through typed views. */
export interface NativeBlock {
  readonly address: number;
  readonly bytes: number;
  readonly u32: Uint32Array;
  readonly i32: Int32Array;
  readonly f64: Float64Array;
}

let koffiModule: typeof Koffi | undefined;

function loadKoffi(): typeof Koffi {
  koffiModule ??= createRequire(import.meta.url)('koffi') as typeof Koffi;
  return koffiModule;
}

export class NvmlLibrary {
  readonly path: string;
  private readonly koffi: typeof Koffi;
  private readonly lib: IKoffiLib;
  readonly init: () => number;
  readonly shutdown: () => number;
  private readonly errorString: (code: number) => string;
  private readonly getCount: NvmlFunction;
  private readonly getHandleByIndex: NvmlFunction;
  private readonly bound = new Map<string, NvmlFunction | undefined>();
  private readonly blocks: unknown[] = [];
  /** Output area of every per-sample call (calls are sequential, so one block serves them all). */
  readonly scratch: NativeBlock;

  /** Loads the library and binds the five required symbols; throws (koffi's Error) when either fails. */
  constructor(path: string = DEFAULT_NVML_LIBRARY) {
    this.koffi = loadKoffi();
    this.path = path;
    this.lib = this.koffi.load(path);
    try {
      this.init = this.lib.func('nvmlInit_v2', 'int', []) as () => number;
      this.shutdown = this.lib.func('nvmlShutdown', 'int', []) as () => number;
      this.errorString = this.lib.func('nvmlErrorString', 'const char *', ['int']) as (
        code: number,
      ) => string;
      this.getCount = this.lib.func('nvmlDeviceGetCount_v2', 'int', ['uint64']) as NvmlFunction;
      this.getHandleByIndex = this.lib.func('nvmlDeviceGetHandleByIndex_v2', 'int', [
        'uint',
        'uint64',
      ]) as NvmlFunction;
    } catch (error) {
      this.lib.unload();
      throw error;
    }
    this.scratch = this.allocate(256);
  }

  /**
   * An optional function, or undefined when this library lacks it. Looked up once; the caller
   * warns (it knows which metrics the function answers).
   */
  optional(name: string): NvmlFunction | undefined {
    if (this.bound.has(name)) return this.bound.get(name);
    const args = OPTIONAL_SIGNATURES[name];
    if (args === undefined) throw new Error(`NvmlLibrary.optional: no signature declared for ${name}`);
    let fn: NvmlFunction | undefined;
    try {
      fn = this.lib.func(name, 'int', [...args]) as NvmlFunction;
    } catch (error) {
      if (!(error instanceof Error) || !MISSING_SYMBOL.test(error.message)) throw error;
      fn = undefined;
    }
    this.bound.set(name, fn);
    return fn;
  }

  /** Native memory that lives until unload(); views alias it, so reads need no copy. */
  allocate(bytes: number): NativeBlock {
    const koffi = this.koffi;
    const pointer = koffi.alloc('uint8', bytes);
    this.blocks.push(pointer);
    const buffer = koffi.view(pointer, bytes);
    return {
      address: Number(koffi.address(pointer)),
      bytes,
      u32: new Uint32Array(buffer),
      i32: new Int32Array(buffer),
      f64: new Float64Array(buffer),
    };
  }

  /** nvmlDeviceGetCount_v2: the count, or a negative nvmlReturn_t. */
  deviceCount(): number {
    const code = this.getCount(this.scratch.address);
    return code === 0 ? this.scratch.u32[0] : -code;
  }

  /** nvmlDeviceGetHandleByIndex_v2: the handle as an address, or a negative nvmlReturn_t. */
  handleByIndex(index: number): number {
    const code = this.getHandleByIndex(index, this.scratch.address);
    return code === 0 ? readU64(this.scratch.u32, 0) : -code;
  }

  /** "Not Supported (3)": NVML's own words and the code. */
  describe(code: number): string {
    return `${this.errorString(code)} (${code})`;
  }

  unload(): void {
    for (const block of this.blocks.splice(0)) this.koffi.free(block);
    this.lib.unload();
  }
}

/** A 64-bit unsigned value at 32-bit word `word` of a view, as a number (exact below 2^53). */
export function readU64(u32: Uint32Array, word: number): number {
  return u32[word] + u32[word + 1] * 4294967296;
}
