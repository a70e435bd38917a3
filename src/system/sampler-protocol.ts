/** Messages between the system sampler (main thread) and its worker thread. */
import type { MessagePort } from 'node:worker_threads';
import type { GpuInfo } from './nvml/gpu-info.js';
import type { SampleTakerOptions, Snapshot } from './sample-taker.js';
import type { HostSource } from './sample.js';

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
   * Where samples go. The main thread never listens on it: it drains it with
   * receiveMessageOnPort from its one timer, which costs far less than a message event per sample.
   */
  readonly samples: MessagePort;
}

export type WorkerMessage =
  | { kind: 'ready'; gpus: readonly GpuInfo[]; sourceName: HostSource['name'] }
  | { kind: 'warn'; message: string }
  | { kind: 'health'; op: 'register' | 'down' | 'up'; sink: string; reason?: string };

export interface SampleMessage {
  readonly snapshot: Snapshot;
  /** Ticks skipped so far by this worker. */
  readonly skipped: number;
}

export type MainMessage = { kind: 'watch'; pid: number } | { kind: 'stop' };
