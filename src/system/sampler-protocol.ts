/** Messages between the system sampler (main thread) and its worker thread. */
import type { GpuInfo } from './nvml/gpu-info.js';
import type { SampleTakerOptions, Snapshot } from './sample-taker.js';
import type { HostSource } from './sample.js';

export interface SamplerWorkerData {
  readonly intervalMs: number;
  readonly taker: SampleTakerOptions;
  /**
   * Float64Array over a SharedArrayBuffer: [0] is the Date.now() at which the work in progress
   * (start-up or a sample) began, 0 while the worker waits. The main thread's watchdog reads it.
   */
  readonly busy: SharedArrayBuffer;
}

export type WorkerMessage =
  | { kind: 'ready'; gpus: readonly GpuInfo[]; sourceName: HostSource['name'] }
  | { kind: 'sample'; snapshot: Snapshot; skipped: number }
  | { kind: 'warn'; message: string }
  | { kind: 'health'; op: 'register' | 'down' | 'up'; sink: string; reason?: string };

export type MainMessage = { kind: 'watch'; pid: number } | { kind: 'stop' };
