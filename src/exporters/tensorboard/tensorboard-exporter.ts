/**
 * TensorBoard sink: native event files, one TensorBoard run per phase under `<logdir>/<runName>/`
 * (`train`, `eval`, `system`), so train and eval overlay on the same charts. Each row becomes one
 * Event with a float32 `simple_value` per scalar (the form every TensorBoard reader accepts); the
 * step-time histogram becomes a TensorBoard histogram in the train run.
 */
import os from 'node:os';
import path from 'node:path';
import { describe } from '../../errors.js';
import type { Phase } from '../../step.js';
import type { Row } from '../../pipeline/row.js';
import type { RowSink, StepTimeHistogram } from '../../pipeline/row-sink.js';
import { METRIC_STEP_DURATION } from '../../instruments/names.js';
import type { SinkHealth } from '../../health.js';
import { RotationPolicy } from '../file/rotation-policy.js';
import { frameRecord } from '../../formats/codec/tfrecord.js';
import { encodeHistogramEvent, encodeTextEvent } from '../../formats/tensorboard/event-encoder.js';
import { EventFileWriter } from './event-file-writer.js';
import { toTensorBoardHistogram } from '../../formats/tensorboard/otel-histogram.js';
import { encodeScalarsRecord, type ScalarForm } from '../../formats/tensorboard/scalars-record.js';

export const TENSORBOARD_SINK = 'tensorboard';

export interface TensorBoardExporterOptions {
  /** The TensorBoard logdir (`tensorboardDir`). */
  logdir: string;
  runName: string;
  health: SinkHealth;
  /** Start a new event file past this size (off by default). */
  rotation?: RotationPolicy;
  /**
   * `simple_value` (default): float32, read by every TensorBoard version. `tensor`: rank-0 DT_FLOAT
   * tensors with `scalars` plugin metadata, the TF2 form.
   */
  scalarForm?: ScalarForm;
  /** Written once as a Markdown text summary (`config`) in the train run. */
  config?: Record<string, unknown>;
  hostname?: string;
  pid?: number;
  /** Unix seconds; injectable for tests. */
  now?: () => number;
  /** The most a stuck event file holds in memory; whole events past it are dropped and counted. */
  maxQueuedBytes?: number;
}

export class TensorBoardExporter implements RowSink {
  readonly name = TENSORBOARD_SINK;
  readonly runDir: string;
  private readonly options: TensorBoardExporterOptions;
  private readonly writers = new Map<Phase, EventFileWriter>();
  /** Events of the current batch, reused from one `write()` to the next. */
  private readonly pendingEvents: Buffer[] = [];
  private shutdownPromise: Promise<void> | undefined;
  private readonly scalarForm: ScalarForm;
  private readonly now: () => number;

  constructor(options: TensorBoardExporterOptions) {
    this.options = options;
    this.scalarForm = options.scalarForm ?? 'simple_value';
    this.now = options.now ?? (() => Date.now() / 1000);
    this.runDir = path.join(options.logdir, options.runName);
    options.health.register(TENSORBOARD_SINK);
    const config = options.config ?? {};
    if (Object.keys(config).length > 0) {
      this.writer('train').append(
        frameRecord(encodeTextEvent(this.now(), 0, 'config/text_summary', configMarkdown(config))),
        0,
      );
    }
  }

  /**
   * One append per run of same-phase rows: the file queues one buffer per batch rather than one
   * small view per event, which a loop that never yields would otherwise hold by the thousand in
   * old space (README "Bounds"). The events stay whole and in order.
   */
  write(rows: readonly Row[]): void {
    if (this.shutdownPromise || !this.options.health.isUp(TENSORBOARD_SINK)) return;
    const events = this.pendingEvents;
    let phase: Phase | undefined;
    let bytes = 0;
    for (const row of rows) {
      if (row.phase !== phase) {
        if (phase !== undefined) this.appendEvents(phase, bytes);
        phase = row.phase;
        bytes = 0;
      }
      const event = encodeScalarsRecord(
        this.wallTime(row.ts),
        row.step,
        row.names,
        row.values,
        this.scalarForm,
      );
      events.push(event);
      bytes += event.byteLength;
    }
    if (phase !== undefined) this.appendEvents(phase, bytes);
  }

  private appendEvents(phase: Phase, bytes: number): void {
    const events = this.pendingEvents;
    const count = events.length;
    this.writer(phase).append(count === 1 ? (events[0] as Buffer) : Buffer.concat(events, bytes), count);
    events.length = 0;
  }

  /** The step-time histogram since the last batch, at the latest timed train step. */
  writeStepTimes(histogram: StepTimeHistogram): void {
    if (this.shutdownPromise || !this.options.health.isUp(TENSORBOARD_SINK)) return;
    const value = toTensorBoardHistogram(histogram);
    if (value === undefined) return;
    this.writer('train').append(
      frameRecord(
        encodeHistogramEvent(this.wallTime(histogram.ts), histogram.step, METRIC_STEP_DURATION, value),
      ),
      0,
    );
  }

  /** Event files of the run, by phase (for printing and tests). */
  files(): Partial<Record<Phase, string>> {
    const files: Partial<Record<Phase, string>> = {};
    for (const [phase, writer] of this.writers) files[phase] = writer.path;
    return files;
  }

  async flush(): Promise<void> {
    await Promise.all([...this.writers.values()].map((writer) => writer.flush()));
  }

  close(): Promise<void> {
    this.shutdownPromise ??= Promise.all([...this.writers.values()].map((writer) => writer.close())).then(
      () => undefined,
    );
    return this.shutdownPromise;
  }

  flushSync(): void {
    for (const writer of this.writers.values()) writer.flushSync();
  }

  closeSync(): void {
    this.flushSync();
  }

  private writer(phase: Phase): EventFileWriter {
    let writer = this.writers.get(phase);
    if (writer === undefined) {
      writer = new EventFileWriter({
        dir: path.join(this.runDir, phase),
        hostname: this.options.hostname ?? os.hostname(),
        pid: this.options.pid ?? process.pid,
        sink: TENSORBOARD_SINK,
        health: this.options.health,
        rotation: this.options.rotation ?? new RotationPolicy(),
        maxQueuedBytes: this.options.maxQueuedBytes,
        now: this.now,
      });
      this.writers.set(phase, writer);
    }
    return writer;
  }

  /** TensorBoard's loaders misorder or drop events with a NaN wall_time: never write one. */
  private wallTime(seconds: number): number {
    return Number.isFinite(seconds) ? seconds : this.now();
  }
}

/** A `|` inside a cell would end it early in TensorBoard's Markdown table: escape it. */
const cell = (text: string): string => text.replaceAll('|', '\\|');

function configMarkdown(config: Record<string, unknown>): string {
  const rows = Object.entries(config).map(
    // describe(): JSON, but never throws on a bigint or a cycle (the constructor must not throw).
    ([key, value]) => `| ${cell(key)} | ${cell(describe(value))} |`,
  );
  return ['| key | value |', '| --- | --- |', ...rows].join('\n');
}
