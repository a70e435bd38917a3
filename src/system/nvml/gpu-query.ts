/**
 * How each group of GPU keys is read from NVML: one entry per "field", the unit NVML answers
 * NOT_SUPPORTED, NO_PERMISSION or a missing symbol for. A field names the functions that can
 * answer it, newest first (a driver offers one of them), and writes the GPU_KEYS slots it fills.
 * Outputs come back in the library's native scratch block, so a read allocates nothing.
 */
import type { NativeBlock, NvmlFunction } from './nvml-library.js';
import { NVML_SUCCESS } from './nvml-return.js';

export interface QueryContext {
  readonly scratch: NativeBlock;
  /** Pids of the watched process tree, for per-process GPU memory. */
  readonly watched: ReadonlySet<number>;
  /**
   * A native block of at least `bytes` (grown on demand, reused across calls), followed by guard
   * bytes that `guardIntact` checks after a call that may write more than asked.
   */
  block(bytes: number): NativeBlock;
  guardIntact(): boolean;
  /** Bytes between the entries nvmlDeviceGetComputeRunningProcesses_v3 fills on this driver. */
  readonly v3ProcessStride: number;
  /**
   * False when this process runs in its own PID namespace (a container) and `pid`, as NVML
   * reports it (host numbering), is not a process this namespace can see.
   */
  pidVisible(pid: number): boolean;
  /** State the query keeps for this GPU between samples (counter readings for rates). */
  carry: Float64Array;
}

/** Results of a read that are not nvmlReturn_t codes (NVML's are all >= 0). */
export const PROCESS_BUFFER_OVERRUN = -1;
export const PIDS_NOT_VISIBLE = -2;

export interface GpuQuery {
  /** Name in warnings and in the per-GPU NOT_SUPPORTED memory. */
  readonly field: string;
  /** Functions that answer it, preferred first; the first the library has is used. */
  readonly symbols: readonly string[];
  /** Keys (GPU_KEYS suffixes) it fills. */
  readonly keys: readonly string[];
  /** Read once when NVML opens: values that cannot change while the driver runs. */
  readonly once?: boolean;
  /** Also read once when NVML opens, as the baseline of rates, its values thrown away. */
  readonly baseline?: boolean;
  /** Used on a GPU only where the named field is missing or answered NOT_SUPPORTED there. */
  readonly fallbackFor?: string;
  /** Asked at most once per this many ms; samples in between repeat its last answer. */
  readonly periodMs?: number;
  /**
   * Calls NVML; on NVML_SUCCESS its keys' slots of `out` hold the answer. `variant` is the index
   * of the symbol bound (struct layouts differ between versions).
   */
  read(call: NvmlFunction, variant: number, context: QueryContext, device: number, out: Float64Array): number;
}

/** One unsigned int output at the start of scratch. */
export function uintQuery(field: string, symbol: string, key: number, keyName: string, scale = 1): GpuQuery {
  return {
    field,
    symbols: [symbol],
    keys: [keyName],
    read(call, _variant, { scratch }, device, out) {
      const code = call(device, scratch.address);
      if (code === NVML_SUCCESS) out[key] = scratch.u32[0] * scale;
      return code;
    },
  };
}

export function clockQuery(field: string, type: number, key: number, keyName: string): GpuQuery {
  return {
    field,
    symbols: ['nvmlDeviceGetClockInfo'],
    keys: [keyName],
    read(call, _variant, { scratch }, device, out) {
      const code = call(device, type, scratch.address);
      if (code === NVML_SUCCESS) out[key] = scratch.u32[0];
      return code;
    },
  };
}

/**
 * Calls `call(device, args[i], scratch)` for each argument, storing the unsigned int answer times
 * `scale` in `slots[i]`; stops at the first failure.
 */
export function eachArg(
  call: NvmlFunction,
  scratch: NativeBlock,
  device: number,
  args: readonly number[],
  slots: readonly number[],
  out: Float64Array,
  scale = 1,
): number {
  for (let i = 0; i < args.length; i++) {
    const code = call(device, args[i], scratch.address);
    if (code !== NVML_SUCCESS) return code;
    out[slots[i]] = scratch.u32[0] * scale;
  }
  return NVML_SUCCESS;
}
