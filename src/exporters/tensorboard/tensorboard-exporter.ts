/**
 * TensorBoard exporter: a PushMetricExporter writing native event files, one TensorBoard run per
 * phase under `<logdir>/<runName>/` (`train`, `eval`, `system`), so train and eval overlay on the
 * same charts. Each logged row becomes one Event with a float32 `simple_value` per scalar (the
 * form every TensorBoard reader accepts); OTel histograms become TensorBoard histograms.
 */
import os from 'node:os';
import path from 'node:path';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import {
  AggregationTemporality,
  DataPointType,
  type MetricData,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { describe } from '../../errors.js';
import type { Phase, Step } from '../../instruments/step-row.js';
import type { SinkHealth } from '../../pipeline/sink-health.js';
import { RotationPolicy } from '../file/rotation-policy.js';
import type { FileSinkExporter } from '../file-sink.js';
import { decodeStepRows, otherMetrics } from '../step-rows.js';
import { frameRecord } from '../codec/tfrecord.js';
import { encodeHistogramEvent, encodeTextEvent } from './event-encoder.js';
import { EventFileWriter } from './event-file-writer.js';
import { toTensorBoardHistogram } from './otel-histogram.js';
import { encodeScalarsRecord, type ScalarForm } from './scalars-record.js';

export const TENSORBOARD_SINK = 'tensorboard';
/** Seconds, not the reference writers' 120 s, which loses the tail of short or crashed runs. */
const DEFAULT_FLUSH_INTERVAL_MS = 2000;

export interface TensorBoardExporterOptions {
  /** The TensorBoard logdir (`tensorboardDir`). */
  logdir: string;
  runName: string;
  health: SinkHealth;
  flushIntervalMs?: number;
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
}

export class TensorBoardExporter implements FileSinkExporter {
  readonly sinkName = TENSORBOARD_SINK;
  readonly runDir: string;
  private readonly options: TensorBoardExporterOptions;
  private readonly writers = new Map<Phase, EventFileWriter>();
  private lastTrainStep: Step = 0;
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
      );
    }
  }

  export(metrics: ResourceMetrics, resultCallback: (result: ExportResult) => void): void {
    if (this.shutdownPromise || !this.options.health.isUp(TENSORBOARD_SINK)) {
      resultCallback({ code: ExportResultCode.FAILED, error: new Error('tensorboard sink is not writable') });
      return;
    }
    for (const row of decodeStepRows(metrics)) {
      if (row.phase === 'train') this.lastTrainStep = row.step;
      this.writer(row.phase).append(
        encodeScalarsRecord(this.wallTime(row.ts), row.step, row.names, row.values, this.scalarForm),
      );
    }
    for (const metric of otherMetrics(metrics)) this.writeHistograms(metric);
    resultCallback({ code: ExportResultCode.SUCCESS });
  }

  /** Event files of the run, by phase (for printing and tests). */
  files(): Partial<Record<Phase, string>> {
    const files: Partial<Record<Phase, string>> = {};
    for (const [phase, writer] of this.writers) files[phase] = writer.path;
    return files;
  }

  async forceFlush(): Promise<void> {
    await Promise.all([...this.writers.values()].map((writer) => writer.flush()));
  }

  shutdown(): Promise<void> {
    this.shutdownPromise ??= Promise.all([...this.writers.values()].map((writer) => writer.close())).then(
      () => undefined,
    );
    return this.shutdownPromise;
  }

  flushSync(): void {
    for (const writer of this.writers.values()) writer.flushSync();
  }

  selectAggregationTemporality(): AggregationTemporality {
    return AggregationTemporality.DELTA;
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
        flushIntervalMs: this.options.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS,
        rotation: this.options.rotation ?? new RotationPolicy(),
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

  private writeHistograms(metric: MetricData): void {
    if (metric.dataPointType !== DataPointType.HISTOGRAM) return;
    for (const point of metric.dataPoints) {
      const histogram = toTensorBoardHistogram(point.value);
      if (histogram === undefined) continue;
      const wallTime = this.wallTime(point.endTime[0] + point.endTime[1] / 1e9);
      this.writer('train').append(
        frameRecord(encodeHistogramEvent(wallTime, this.lastTrainStep, metric.descriptor.name, histogram)),
      );
    }
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
