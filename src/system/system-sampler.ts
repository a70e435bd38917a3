/**
 * The background system sampler. Host and GPU sampling run in a worker thread
 * (src/system/sampler-worker.ts) that posts one snapshot per interval; this class, on the training
 * thread, only receives it, hands it to `onSample` and keeps it for observable instruments. The
 * snapshots come through a ring in shared memory (src/system/sample-ring.ts), not as messages: it
 * copies them out from its one timer (every interval), so a sample costs this thread no wake-up
 * of its own and no decoding (the typed part is decoded only when an instrument reads it); a
 * snapshot so reaches `onSample` up to one interval after it was taken (its `ts` is when it was
 * taken).
 * So a slow /proc read or NVML call never stalls `log()`:
 * - a sample that takes longer than the interval makes the worker skip (and count) the ticks it
 *   overlaps, never queue them;
 * - a call that does not return within `hangTimeoutSeconds` (a stuck driver) is reported once:
 *   the `system` sink goes down, the worker is abandoned, and a fresh one starts after a back-off;
 *   the sink comes up again with its first sample.
 * NVML is loaded only when `gpu` is true, inside the worker. Interval 0 means no sampler at all
 * (callers do not construct one): no worker, no timer.
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { settingsNamedByFlag } from '../config/setting-name.js';
import { ConfigError, errorText } from '../errors.js';
import { defaultWarn, type SinkHealth } from '../health.js';
import type { GpuInfo } from './nvml/gpu-info.js';
import { ReceivedSample } from './received-sample.js';
import { allocateRing, RingReader, type RingBuffer } from './sample-ring.js';
import type { HostSource, SystemSample } from './sample.js';
import type { MainMessage, SamplerWorkerData, WorkerMessage } from './sampler-protocol.js';

export type { GpuInfo } from './nvml/gpu-info.js';
export type { GpuSample, SystemSample } from './sample.js';

/** Health entry of the sampler itself. */
export const SYSTEM_SINK = 'system';

/** Default seconds a sample may run before its worker is taken for stuck. */
export const DEFAULT_HANG_TIMEOUT_SECONDS = 30;
/** Abandoned (stuck) worker threads kept at most; after that no fresh worker is started. */
export const MAX_ABANDONED_WORKERS = 4;
/** Start-up (loading modules, nvmlInit, the baseline read) may take at least this long on a loaded machine. */
const STARTUP_ALLOWANCE_MS = 10_000;
/** How long stop() waits for the worker to release NVML before terminating it. */
const STOP_WAIT_MS = 2000;
/** Back-off before a fresh worker: the hang timeout, doubling per hang, at most this. */
const MAX_RESTART_DELAY_MS = 10 * 60_000;

export interface SystemSamplerOptions {
  /** Seconds between samples; > 0 (interval 0 means: do not construct a sampler). */
  intervalSeconds: number;
  /** Sample NVIDIA GPUs through NVML. */
  gpu: boolean;
  /** libnvidia-ml path (CODEX_NVML_LIBRARY); default libnvidia-ml.so.1. */
  nvmlLibrary?: string;
  /** Directory whose filesystem usage is reported (the output dir). */
  outputDir: string;
  /** Root of the process tree to watch; default this process. */
  pid?: number;
  health: SinkHealth;
  onSample: (sample: SystemSample) => void;
  /** CUDA_VISIBLE_DEVICES; undefined samples every GPU. */
  cudaVisibleDevices?: string;
  /** Where one-off warnings go; default process.emitWarning. */
  warn?: (message: string) => void;
  /** Host source: 'auto' picks /proc when it exists, else systeminformation. */
  source?: 'auto' | 'proc' | 'systeminformation';
  /** Where procfs is mounted (tests). */
  procRoot?: string;
  /** Seconds one sample (or the worker's start-up) may run before it is taken for stuck. */
  hangTimeoutSeconds?: number;
}

/** Counters users can read (and the bench reports). */
export interface SamplerStats {
  /**
   * Samples not taken because the one before was still running (or the worker woke late), plus
   * samples lost because this thread was blocked for longer than the ring holds.
   */
  skipped: number;
  /** Workers abandoned because a call in them did not return in time. */
  hung: number;
  /** Workers started, the first included. */
  started: number;
}

/**
 * The compiled worker next to this module, or, when this module runs from TypeScript sources
 * (the test runner), the compiled copy in dist/ (test/global-setup.ts keeps it fresh).
 */
function workerUrl(): URL {
  const sibling = new URL('./sampler-worker.js', import.meta.url);
  if (fs.existsSync(fileURLToPath(sibling))) return sibling;
  const built = new URL('../../dist/src/system/sampler-worker.js', import.meta.url);
  if (fs.existsSync(fileURLToPath(built))) return built;
  throw new Error(`the system sampler's worker is not built (${fileURLToPath(sibling)}): run npm run build`);
}

export class SystemSampler {
  private readonly options: SystemSamplerOptions;
  private readonly intervalMs: number;
  private readonly hangTimeoutMs: number;
  private readonly warn: (message: string) => void;
  private readonly health: SinkHealth;
  private worker: Worker | undefined;
  private busy: Float64Array | undefined;
  private ring: RingReader | undefined;
  /** A larger ring the worker moved to; read once the current one is drained. */
  private nextRings: RingBuffer[] = [];
  /** Key lists of the current worker's samples, by layout version. */
  private layouts = new Map<number, readonly string[]>();
  /** The one timer: drains the ring and watches for a stuck worker. */
  private watchdog: NodeJS.Timeout | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private gpuInfos: readonly GpuInfo[] = [];
  private readonly infoByIndex = new Map<number, GpuInfo>();
  private source: HostSource['name'] | undefined;
  private pid: number;
  private seq = 0;
  /** Skipped and lost samples of the workers before the current one. */
  private skippedBefore = 0;
  private hung = 0;
  private started = 0;
  private running = false;
  private stopped = false;
  private last: SystemSample | undefined;
  private ready: Promise<void> | undefined;

  constructor(options: SystemSamplerOptions) {
    const interval = options.intervalSeconds;
    if (typeof interval !== 'number' || !Number.isFinite(interval) || interval <= 0) {
      throw new ConfigError(
        'systemMetricsInterval',
        interval,
        'a number of seconds > 0 (0 disables the sampler)',
      );
    }
    this.options = options;
    this.intervalMs = interval * 1000;
    this.hangTimeoutMs = (options.hangTimeoutSeconds ?? DEFAULT_HANG_TIMEOUT_SECONDS) * 1000;
    this.warn = options.warn ?? defaultWarn;
    this.health = options.health;
    this.pid = options.pid ?? process.pid;
    options.health.register(SYSTEM_SINK);
  }

  /**
   * Starts the worker, which opens NVML when enabled and takes the baseline read. Resolves once the
   * worker has said which GPUs it samples (or has failed). Idempotent.
   */
  start(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.running) return this.ready ?? Promise.resolve();
    this.running = true;
    this.ready = this.spawn();
    const periodMs = Math.max(1, Math.min(this.intervalMs, this.hangTimeoutMs / 4));
    this.watchdog = setInterval(() => {
      this.drain();
      this.checkHang();
    }, periodMs);
    this.watchdog.unref();
    return this.ready;
  }

  /**
   * Stops sampling; the worker releases NVML (nvmlShutdown) and ends. Resolves when it has ended
   * (at once when it is stuck). Idempotent; a stopped sampler stays stopped.
   */
  stop(): Promise<void> {
    this.stopped = true;
    this.running = false;
    if (this.watchdog) clearInterval(this.watchdog);
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.watchdog = this.restartTimer = undefined;
    const worker = this.worker;
    this.worker = undefined;
    this.retireRing();
    if (!worker) return Promise.resolve();
    worker.removeAllListeners('message');
    if (this.isStuck()) {
      void worker.terminate().catch((error: unknown) => this.report('stop', error));
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      // The worker ends after the sample in progress; one that takes too long is terminated.
      const late = setTimeout(() => {
        worker.terminate().catch((error: unknown) => this.report('stop', error));
        resolve();
      }, STOP_WAIT_MS);
      late.unref();
      worker.once('exit', () => {
        clearTimeout(late);
        resolve();
      });
      // Held while it releases NVML, so a caller awaiting stop() sees it end.
      worker.ref();
      worker.postMessage({ kind: 'stop' } satisfies MainMessage);
    });
  }

  /** The last sample taken, for observable instruments; undefined before the first. */
  latest(): SystemSample | undefined {
    return this.last;
  }

  /** GPUs being sampled (empty without NVML, or before the worker is ready). */
  get gpus(): readonly GpuInfo[] {
    return this.gpuInfos;
  }

  /** Name of the host source in use, once the worker is ready. */
  get sourceName(): HostSource['name'] | undefined {
    return this.source;
  }

  get stats(): SamplerStats {
    const ring = this.ring;
    const now = ring ? ring.skipped + ring.lost : 0;
    return { skipped: this.skippedBefore + now, hung: this.hung, started: this.started };
  }

  /**
   * Takes the samples waiting in the ring now, when there are any: one atomic load otherwise.
   * The training loop calls it (from `log()`, evaluation rows and `ingest()`), so a process that logs at least once per interval
   * receives every sample there, and the timer, pushed back each time, never has to wake the
   * thread for it; the timer still runs when nothing calls this (the bridge, an idle trainer) and
   * watches for a stuck worker when samples stop.
   */
  poll(): void {
    if (!this.ring?.pending) return;
    this.drain();
    this.watchdog?.refresh();
  }

  /** Watches another process tree (the bridge's child) from the next sample on. */
  watch(pid: number | undefined): void {
    this.pid = pid ?? process.pid;
    this.worker?.postMessage({ kind: 'watch', pid: this.pid } satisfies MainMessage);
  }

  private spawn(): Promise<void> {
    const busy = new Float64Array(new SharedArrayBuffer(16));
    // Start-up counts as work: a library whose nvmlInit never returns is a hang too. [1] marks it
    // as start-up, which gets a longer allowance; the worker clears both when it first goes idle.
    busy[0] = Date.now();
    busy[1] = 1;
    const { gpu, nvmlLibrary, outputDir, cudaVisibleDevices, source = 'auto', procRoot } = this.options;
    const ring = allocateRing();
    const workerData: SamplerWorkerData = {
      intervalMs: this.intervalMs,
      settingsByFlag: settingsNamedByFlag(),
      taker: { gpu, nvmlLibrary, outputDir, pid: this.pid, cudaVisibleDevices, source, procRoot },
      busy: busy.buffer as SharedArrayBuffer,
      ring,
    };
    // Workers inherit node's flags; --input-type (a `node -e` caller) is refused for a file worker.
    const execArgv = process.execArgv.filter((arg) => !arg.startsWith('--input-type'));
    let worker: Worker;
    try {
      worker = new Worker(workerUrl(), { workerData, execArgv });
    } catch (error) {
      this.health.markDown(SYSTEM_SINK, `cannot start the sampler thread (${errorText(error)})`);
      return Promise.resolve();
    }
    // Referenced until ready, so a caller awaiting start() keeps the process up; then unreferenced,
    // so sampling never keeps a finished program alive.
    this.worker = worker;
    this.busy = busy;
    this.retireRing();
    this.ring = new RingReader(ring);
    this.started++;
    return new Promise((resolve) => {
      worker.on('message', (message: WorkerMessage) => {
        if (message.kind === 'ready') {
          worker.unref();
          resolve();
        }
        this.receive(message);
      });
      worker.on('error', (error) => {
        if (worker !== this.worker) return;
        this.health.markDown(SYSTEM_SINK, `the sampler thread failed (${errorText(error)})`);
        resolve();
      });
      worker.on('exit', () => resolve());
    });
  }

  /** Keeps the counts of a worker's ring that is no longer read, and lets go of it. */
  private retireRing(): void {
    if (this.ring) this.skippedBefore += this.ring.skipped + this.ring.lost;
    this.ring = undefined;
    this.nextRings = [];
    this.layouts = new Map();
  }

  /** Takes every sample the worker has written since the last drain, oldest first. */
  private drain(): void {
    if (!this.running) return;
    const known = (version: number): boolean => this.layouts.has(version);
    for (let ring = this.ring; ring; ring = this.ring) {
      for (let slot = ring.next(known); slot; slot = ring.next(known)) {
        const names = this.layouts.get(slot.layout) ?? [];
        this.emit(new ReceivedSample(slot.ts, this.seq++, names, slot.values, slot.typed, this.infoByIndex));
        // onSample may have stopped the sampler, or a hang check replaced the worker.
        if (this.ring !== ring) return;
      }
      const larger = this.nextRings.shift();
      if (!larger || ring.pending) return;
      // The worker writes no more to this ring: carry its counts over to the larger one.
      this.skippedBefore += ring.lost;
      this.ring = new RingReader(larger);
    }
  }

  private receive(message: WorkerMessage): void {
    switch (message.kind) {
      case 'ready':
        // GpuInfo objects are made once (the first worker's) and kept: instruments key on them.
        if (this.infoByIndex.size === 0) {
          for (const info of message.gpus) this.infoByIndex.set(info.index, info);
          this.gpuInfos = message.gpus;
        }
        this.source = message.sourceName;
        break;
      case 'warn':
        this.warn(message.message);
        break;
      case 'layout':
        // Older versions are no longer in the ring once a sample of a newer one has been read.
        this.layouts.set(message.version, message.names);
        if (this.layouts.size > 16) this.layouts.delete(this.layouts.keys().next().value as number);
        break;
      case 'ring':
        this.nextRings.push(message.ring);
        break;
      case 'health':
        if (message.op === 'register') this.health.register(message.sink);
        else if (message.op === 'down') this.health.markDown(message.sink, message.reason ?? '');
        else this.health.markUp(message.sink);
        break;
    }
  }

  private emit(sample: SystemSample): void {
    if (!this.running) return;
    this.last = sample;
    // A fresh worker's first sample ends the gap a stuck one left.
    if (this.hung > 0) this.health.markUp(SYSTEM_SINK);
    try {
      this.options.onSample(sample);
    } catch (error) {
      // An error here must not escape (it would end the training run): reported once per message.
      this.report('onSample', error);
    }
  }

  private isStuck(): boolean {
    const since = this.busy?.[0] ?? 0;
    const limit =
      this.busy?.[1] === 1 ? Math.max(this.hangTimeoutMs, STARTUP_ALLOWANCE_MS) : this.hangTimeoutMs;
    return since > 0 && Date.now() - since > limit;
  }

  private checkHang(): void {
    if (!this.running || !this.worker || !this.isStuck()) return;
    const worker = this.worker;
    this.worker = undefined;
    this.busy = undefined;
    this.retireRing();
    this.hung++;
    worker.removeAllListeners('message');
    // terminate() takes effect when the stuck call returns; until then the thread idles in it.
    void worker.terminate().catch((error: unknown) => this.report('terminate', error));
    const restart = this.hung < MAX_ABANDONED_WORKERS;
    const delayMs = Math.min(this.hangTimeoutMs * 2 ** (this.hung - 1), MAX_RESTART_DELAY_MS);
    this.health.markDown(
      SYSTEM_SINK,
      `a system or GPU sampling call has not returned for ${this.hangTimeoutMs / 1000} s (a stuck driver?); ` +
        (restart
          ? `its thread is left behind and a fresh one starts in ${delayMs / 1000} s`
          : `its thread is left behind, and after ${MAX_ABANDONED_WORKERS} such threads no fresh one is started`) +
        '. Training is not blocked',
    );
    if (!restart) return;
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.running) this.spawn().catch((error: unknown) => this.report('restart', error));
    }, delayMs);
    this.restartTimer.unref();
  }

  private readonly reported = new Set<string>();

  private report(place: string, error: unknown): void {
    const message = errorText(error);
    const key = `${place}:${message}`;
    if (this.reported.has(key)) return;
    this.reported.add(key);
    this.warn(
      `codex-telemetry: system metrics: ${place} failed (${message}); the affected keys are left out`,
    );
  }
}
