/**
 * The path from `log()` to every file sink, with one clock.
 *
 * `push()` is the hot path: it appends the caller's row to a queue and returns. A dispatch hands
 * the queued rows to every sink's `write()` (encoding, still no I/O wait); a flush dispatches and
 * then asks every sink to hand its bytes to the kernel. Flushes happen:
 * - every `flushIntervalMs` (0 = no timer at all);
 * - soon after `commit()` (the next turn of the event loop, well within 100 ms);
 * - on `flush()`, `close()` and the synchronous exit path.
 * When the queue reaches `highWaterRows` between flushes, `push()` dispatches them itself, at once:
 * a loop that never yields to the event loop must not pile rows up as objects (that lost a whole
 * NDJSON stream once, 1.5 M rows joined into one string). The sinks' writers bound their byte
 * queues the same way (see AppendFile).
 *
 * A sink that throws is marked down once (warning + `codex_sink_up 0`) and skipped from then on;
 * the others keep writing. Nothing here rejects or throws into the training loop.
 */
import { ConfigError, errorText } from '../errors.js';
import type { Row } from './row.js';
import type { RowSink, RunOutcome } from './row-sink.js';
import type { SinkHealth } from '../health.js';
import type { StepTimeAccumulator } from './step-time-accumulator.js';
import type { Step } from '../step.js';

/**
 * Enough rows to amortise a dispatch, few enough to keep a burst's memory small: each dispatch
 * encodes one chunk per sink (about 100 bytes per scalar for NDJSON) that lives until it is written,
 * and the rows wait as objects until then. 1024 rather than 4096 took about 20 MiB off the peak RSS
 * of a loop that never yields, with every sink on (bench/RESULTS.md).
 */
const DEFAULT_HIGH_WATER_ROWS = 1024;

export interface RowPipelineOptions {
  /** The one flush clock for every file sink; 0 = no timer (flush on commit, flush() and close). */
  flushIntervalMs: number;
  health: SinkHealth;
  stepTimes?: StepTimeAccumulator;
  highWaterRows?: number;
}

export class RowPipeline {
  private readonly sinks: RowSink[] = [];
  private readonly health: SinkHealth;
  private readonly stepTimes: StepTimeAccumulator | undefined;
  private readonly highWaterRows: number;
  private queue: Row[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushSoon = false;
  private closing: Promise<void> | undefined;
  private closed = false;

  constructor(options: RowPipelineOptions) {
    const { flushIntervalMs } = options;
    if (!Number.isFinite(flushIntervalMs) || flushIntervalMs < 0) {
      throw new ConfigError('flushInterval', flushIntervalMs / 1000, 'a number of seconds >= 0');
    }
    this.health = options.health;
    this.stepTimes = options.stepTimes;
    this.highWaterRows = options.highWaterRows ?? DEFAULT_HIGH_WATER_ROWS;
    if (flushIntervalMs > 0) {
      this.timer = setInterval(() => this.requestFlush(), flushIntervalMs);
      // The clock never keeps a finished trainer alive; exit hooks flush what is left.
      this.timer.unref();
    }
  }

  /** Adds a sink (also mid-run, e.g. an evaluation stream); it receives rows pushed from now on. */
  add(sink: RowSink): void {
    this.health.register(sink.name);
    this.sinks.push(sink);
  }

  /** Sinks in the order they were added. */
  get sinkList(): readonly RowSink[] {
    return this.sinks;
  }

  /** Rows waiting for the next dispatch. */
  get pendingRows(): number {
    return this.queue.length;
  }

  /** Whether a timer runs (false with flushInterval 0, and after close). */
  get hasTimer(): boolean {
    return this.timer !== undefined;
  }

  /** Queues a row. Returns false after close. */
  push(row: Row): boolean {
    if (this.closed) return false;
    this.queue.push(row);
    if (this.queue.length >= this.highWaterRows) this.dispatch();
    return true;
  }

  /** Records one measured step duration for sinks that chart step time. */
  recordStepTime(seconds: number, step: Step, ts: number): void {
    this.stepTimes?.record(seconds, step, ts);
  }

  /** Puts every queued row into every file soon (the next event-loop turn), whatever the interval. */
  commit(): void {
    this.requestFlush();
  }

  /** Dispatches queued rows and hands every sink's bytes to the kernel. Never rejects. */
  async flush(): Promise<void> {
    this.dispatch();
    await Promise.all(this.sinks.map((sink) => this.guard(sink, 'flush', () => sink.flush())));
  }

  /** Blocking flush for the exit path. */
  flushSync(): void {
    this.dispatch();
    for (const sink of this.sinks) this.guardSync(sink, 'flush', () => sink.flushSync());
  }

  /**
   * Stops the clock, writes what is queued and closes every sink with the outcome. Idempotent.
   * An outcome given as a function is asked once the sinks that do not record it have closed,
   * just before those that do (`recordsOutcome`) close with it.
   */
  close(outcome: RunOutcome | (() => RunOutcome)): Promise<void> {
    this.closing ??= (async () => {
      this.stopClock();
      this.dispatch();
      this.closed = true;
      const closeAll = (sinks: RowSink[], given: RunOutcome): Promise<void[]> =>
        Promise.all(sinks.map((sink) => this.guard(sink, 'close', () => sink.close(given))));
      if (typeof outcome !== 'function') {
        await closeAll(this.sinks, outcome);
        return;
      }
      const recording = this.sinks.filter((sink) => sink.recordsOutcome === true);
      await closeAll(
        this.sinks.filter((sink) => sink.recordsOutcome !== true),
        outcome(),
      );
      // Asked again: a sink that went down as it closed may change the outcome.
      await closeAll(recording, outcome());
    })();
    return this.closing;
  }

  /** Blocking close for `process.on('exit')`. Sinks already closed ignore it. */
  closeSync(outcome: RunOutcome): void {
    this.stopClock();
    this.dispatch();
    this.closed = true;
    for (const sink of this.sinks) this.guardSync(sink, 'close', () => sink.closeSync(outcome));
  }

  private requestFlush(): void {
    if (this.flushSoon || this.closed) return;
    this.flushSoon = true;
    setImmediate(() => {
      this.flushSoon = false;
      // flush() never rejects; the catch only satisfies the no-unhandled-promise rule.
      this.flush().catch((error: unknown) => this.report('pipeline', 'flush', error));
    });
  }

  private dispatch(): void {
    const rows = this.queue;
    const stepTimes = this.stepTimes?.take();
    if (rows.length === 0 && stepTimes === undefined) return;
    this.queue = [];
    for (const sink of this.sinks) {
      if (!this.health.isUp(sink.name)) continue;
      try {
        if (rows.length > 0) sink.write(rows);
        if (stepTimes !== undefined) sink.writeStepTimes?.(stepTimes);
      } catch (error) {
        this.report(sink.name, 'write', error);
      }
    }
  }

  private stopClock(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private async guard(sink: RowSink, what: string, run: () => Promise<void>): Promise<void> {
    try {
      await run();
    } catch (error) {
      this.report(sink.name, what, error);
    }
  }

  private guardSync(sink: RowSink, what: string, run: () => void): void {
    try {
      run();
    } catch (error) {
      this.report(sink.name, what, error);
    }
  }

  /** A sink broke its never-throw contract: it is a bug or an unexpected I/O error; disable it visibly. */
  private report(sink: string, what: string, error: unknown): void {
    this.health.markDown(sink, `${what} failed (${errorText(error)})`);
  }
}
