/**
 * The one contract between the pipeline and every file sink (NDJSON, TensorBoard, W&B, and any
 * sink registered by a user). A sink is handed rows and reads nothing else: no OTel data points to
 * decode, no side channel back into the producer.
 *
 * Shaped like OpenTelemetry's PushMetricExporter, minus the aggregation it does not need: `write`
 * is the export, `flush` the forceFlush, `close` the shutdown. The pipeline owns the only clock;
 * sinks keep no timers, so `flushInterval` governs every file the same way.
 */
import type { Row } from './row.js';

/** How the run ended, handed to every sink at close (W&B writes it as the exit record). */
export interface RunOutcome {
  /** Process exit code: 0 success, 128 + signal number for a signal, 1 for an uncaught error. */
  readonly exitCode: number;
}

/** Step-time distribution since the previous batch, for sinks that chart it (TensorBoard). */
export interface StepTimeHistogram {
  /** Upper bucket edges in seconds; `counts` has one more entry (the overflow bucket). */
  readonly buckets: { readonly boundaries: readonly number[]; readonly counts: readonly number[] };
  readonly count: number;
  readonly sum: number;
  readonly min: number;
  readonly max: number;
  /** The last train step at which a duration was recorded. */
  readonly step: Row['step'];
  /** Unix seconds of that step. */
  readonly ts: number;
}

export interface RowSink {
  /** Health name: `codex_sink_up{sink=name}`. */
  readonly name: string;
  /** Encodes rows and queues their bytes. Never throws and never waits on the disk. */
  write(rows: readonly Row[]): void;
  /** Optional: the step-time histogram of the rows written since the last call. */
  writeStepTimes?(histogram: StepTimeHistogram): void;
  /** Hands everything written so far to the kernel. Never rejects. */
  flush(): Promise<void>;
  /** The same with blocking calls, for `process.on('exit')`, where no promise runs. */
  flushSync(): void;
  /**
   * Optional: true for a sink that writes the outcome down (W&B's exit record). Such sinks close
   * after every other sink, so an outcome that depends on the sinks (every file sink went down)
   * already knows how their close went.
   */
  readonly recordsOutcome?: boolean;
  /** Flushes and closes, recording the outcome. Idempotent; never rejects. */
  close(outcome: RunOutcome): Promise<void>;
  /** The same with blocking calls (exit path). Idempotent. */
  closeSync(outcome: RunOutcome): void;
  /**
   * Optional, for sinks that rotate their files: closes the active file as a segment (whole
   * records) and resolves to every closed segment, oldest first, for a checkpoint's archive.
   * Never rejects; a failure is reported through the warn channel.
   */
  archiveSegments?(): Promise<readonly string[]>;
}
