/**
 * NDJSON file exporter: a PushMetricExporter that writes the step rows of each collection as
 * schema v1 lines (docs/ndjson-schema.md) through a buffered AppendFile.
 */
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { AggregationTemporality, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { Phase } from '../../instruments/step-row.js';
import type { SinkHealth } from '../../pipeline/sink-health.js';
import { AppendFile } from '../file/append-file.js';
import type { FileSinkExporter } from '../file-sink.js';
import { decodeStepRows } from '../step-rows.js';
import { LineEncoder } from './encode-line.js';

export interface NdjsonExporterOptions {
  path: string;
  runId: string;
  /** Which rows this stream holds, e.g. ['train', 'system'] for metrics.ndjson, ['eval'] for eval. */
  phases: readonly Phase[];
  health: SinkHealth;
  /** Health name; defaults to `ndjson`. */
  sinkName?: string;
  flushIntervalMs?: number;
  extraTags?: Record<string, string | number>;
}

export class NdjsonExporter implements FileSinkExporter {
  readonly sinkName: string;
  private readonly file: AppendFile;
  private readonly encoder: LineEncoder;
  private readonly phases: ReadonlySet<Phase>;
  private shutdownPromise: Promise<void> | undefined;
  private linesWritten = 0;

  constructor(options: NdjsonExporterOptions) {
    this.sinkName = options.sinkName ?? 'ndjson';
    this.phases = new Set(options.phases);
    this.encoder = new LineEncoder({ runId: options.runId, extraTags: options.extraTags });
    this.file = new AppendFile({
      path: options.path,
      sink: this.sinkName,
      health: options.health,
      flushIntervalMs: options.flushIntervalMs,
    });
  }

  get path(): string {
    return this.file.path;
  }

  /** Rows encoded so far (for tests and reports). */
  get rowsWritten(): number {
    return this.linesWritten;
  }

  export(metrics: ResourceMetrics, resultCallback: (result: ExportResult) => void): void {
    if (this.shutdownPromise || !this.file.up) {
      resultCallback({
        code: ExportResultCode.FAILED,
        error: new Error(`${this.sinkName} sink is not writable`),
      });
      return;
    }
    let chunk = '';
    for (const row of decodeStepRows(metrics)) {
      if (!this.phases.has(row.phase)) continue;
      chunk += this.encoder.encodeRow(row);
      this.linesWritten++;
    }
    if (chunk.length > 0) this.file.append(chunk);
    resultCallback({ code: ExportResultCode.SUCCESS });
  }

  /** Resolves when every exported line has been handed to the kernel. */
  async forceFlush(): Promise<void> {
    await this.file.flush();
  }

  shutdown(): Promise<void> {
    this.shutdownPromise ??= this.file.close();
    return this.shutdownPromise;
  }

  flushSync(): void {
    this.file.flushSync();
  }

  selectAggregationTemporality(): AggregationTemporality {
    return AggregationTemporality.DELTA;
  }
}
