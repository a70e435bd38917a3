/**
 * The system sampler's worker thread: reads the host and the GPUs every interval and writes one
 * snapshot per sample into the ring the main thread reads (src/system/sample-ring.ts). Tick k is due at
 * start + k·interval; ticks that pass while a sample is still running are skipped and counted,
 * never queued. `busy` tells the main thread's watchdog how long the current work has run, so a
 * call that never returns (a stuck driver) is noticed there and this thread is abandoned.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { nameSettingsByFlag } from '../config/setting-name.js';
import { errorText } from '../errors.js';
import { SinkHealth } from '../health.js';
import { SampleTaker } from './sample-taker.js';
import type { HostSample } from './sample.js';
import { SamplePublisher } from './sample-publisher.js';
import type { MainMessage, SamplerWorkerData, WorkerMessage } from './sampler-protocol.js';
import { TickSchedule } from './tick-schedule.js';

const port = parentPort;
if (port === null) throw new Error('sampler-worker.js runs as a worker thread of SystemSampler');
const data = workerData as SamplerWorkerData;
if (data.settingsByFlag) nameSettingsByFlag();
const busy = new Float64Array(data.busy);
const post = (message: WorkerMessage): void => port.postMessage(message);

/** NVML's health entries live on the main thread: this one forwards every change there. */
class ForwardingHealth extends SinkHealth {
  override register(sink: string): void {
    super.register(sink);
    post({ kind: 'health', op: 'register', sink });
  }
  override markDown(sink: string, reason: string): boolean {
    post({ kind: 'health', op: 'down', sink, reason });
    return super.markDown(sink, reason);
  }
  override markUp(sink: string): void {
    post({ kind: 'health', op: 'up', sink });
    super.markUp(sink);
  }
}

const reported = new Set<string>();
const warn = (message: string): void => post({ kind: 'warn', message });
function report(place: string, error: unknown): void {
  const message = errorText(error);
  const key = `${place}:${message}`;
  if (reported.has(key)) return;
  reported.add(key);
  warn(`codex-telemetry: system metrics: ${place} failed (${message}); the affected keys are left out`);
}

// The main thread set `busy` when it started this thread; start-up (NVML init) counts as work.
const taker = new SampleTaker(data.taker, new ForwardingHealth(() => undefined), warn, report);
const schedule = new TickSchedule(data.intervalMs);
const publisher = new SamplePublisher(data.ring, post);
/** Ticks that came while a sample was still running (an async host read). */
let overlapped = 0;
let inFlight = false;
let stopped = false;
let timer: NodeJS.Timeout | undefined;

function finish(host: HostSample): void {
  if (stopped) return;
  try {
    publisher.publish(taker.complete(host), schedule.skipped + overlapped);
  } catch (error) {
    report('sample', error);
  }
}

function idle(): void {
  busy[0] = 0;
  busy[1] = 0;
  inFlight = false;
}

function tick(): void {
  if (stopped) return;
  // Ticks that passed while the last sample ran (or the timer woke late) are skipped and counted.
  timer = setTimeout(tick, schedule.next());
  if (inFlight) {
    overlapped++;
    return;
  }
  inFlight = true;
  busy[0] = Date.now();
  try {
    const host = taker.readHost();
    if (host instanceof Promise) {
      host.then(finish, (error: unknown) => report('sample', error)).finally(idle);
      return;
    }
    finish(host);
  } catch (error) {
    report('sample', error);
  }
  idle();
}

port.on('message', (message: MainMessage) => {
  if (message.kind === 'watch') {
    taker.watch(message.pid);
  } else if (message.kind === 'stop') {
    stopped = true;
    if (timer) clearTimeout(timer);
    taker.close();
    port.close();
  }
});

post({ kind: 'ready', gpus: taker.gpuInfos, sourceName: taker.host.name });
// The first read is the baseline for rates and "since start" totals; it is not posted.
try {
  const baseline = taker.readHost();
  if (baseline instanceof Promise) {
    inFlight = true;
    baseline.catch((error: unknown) => report('baseline', error)).finally(idle);
  } else {
    idle();
  }
} catch (error) {
  report('baseline', error);
  idle();
}
timer = setTimeout(tick, schedule.start());
