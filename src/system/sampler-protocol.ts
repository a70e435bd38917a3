/** Messages between the system sampler (main thread) and its worker thread. */
import type { GpuInfo } from './nvml/gpu-info.js';
import type { RingBuffer } from './sample-ring.js';
import type { SampleTakerOptions } from './sample-taker.js';
import type { HostSample, HostSource } from './sample.js';

export interface SamplerWorkerData {
  readonly intervalMs: number;
  /** Hints name command-line flags (the worker's modules do not share the main thread's switch). */
  readonly settingsByFlag: boolean;
  readonly taker: SampleTakerOptions;
  /**
   * Float64Array over a SharedArrayBuffer: [0] is the Date.now() at which the work in progress
   * (start-up or a sample) began, 0 while the worker waits; [1] is 1 during start-up. The main
   * thread's watchdog reads them.
   */
  readonly busy: SharedArrayBuffer;
  /**
   * Where samples go (src/system/sample-ring.ts): no message per sample; the main thread copies
   * them out from its one timer. The worker replaces it ('ring') when a sample outgrows a slot.
   */
  readonly ring: RingBuffer;
}

export type WorkerMessage =
  | { kind: 'ready'; gpus: readonly GpuInfo[]; sourceName: HostSource['name'] }
  | { kind: 'warn'; message: string }
  | { kind: 'health'; op: 'register' | 'down' | 'up'; sink: string; reason?: string }
  /** The flat keys of the samples stamped with `version`, in the order of their values. */
  | { kind: 'layout'; version: number; names: readonly string[] }
  /** Samples from now on go to this larger ring; the old one holds no more after those published. */
  | { kind: 'ring'; ring: RingBuffer };

/** The typed part of a sample, v8-serialized into its ring slot; GPUs by index. */
export interface TypedPart {
  readonly host: HostSample;
  readonly gpus: ReadonlyArray<{ readonly index: number; readonly values: Float64Array }>;
}

export type MainMessage = { kind: 'watch'; pid: number } | { kind: 'stop' };
