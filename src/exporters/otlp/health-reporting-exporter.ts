/**
 * Wraps a PushMetricExporter so a failed export marks the sink down in SinkHealth (one warning,
 * then `codex_sink_up{sink="otlp"} 0`), while the reader keeps its normal error path. The wrapped
 * exporter keeps its own aggregation and temporality choices.
 */
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type {
  AggregationOption,
  AggregationTemporality,
  InstrumentType,
  PushMetricExporter,
  ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import type { SinkHealth } from '../../health.js';

export class HealthReportingExporter implements PushMetricExporter {
  private readonly inner: PushMetricExporter;
  private readonly health: SinkHealth;
  private readonly sink: string;
  private readonly target: string;
  // Present exactly when the wrapped exporter has them, so the reader's defaults apply otherwise.
  readonly selectAggregationTemporality?: (instrumentType: InstrumentType) => AggregationTemporality;
  readonly selectAggregation?: (instrumentType: InstrumentType) => AggregationOption;

  constructor(options: { inner: PushMetricExporter; health: SinkHealth; sink: string; target: string }) {
    this.inner = options.inner;
    this.health = options.health;
    this.sink = options.sink;
    this.target = options.target;
    this.selectAggregationTemporality = this.inner.selectAggregationTemporality?.bind(this.inner);
    this.selectAggregation = this.inner.selectAggregation?.bind(this.inner);
    this.health.register(this.sink);
  }

  export(metrics: ResourceMetrics, resultCallback: (result: ExportResult) => void): void {
    const done = (result: ExportResult): void => {
      if (result.code !== ExportResultCode.SUCCESS) this.reportFailure(result.error);
      else this.health.markUp(this.sink);
      resultCallback(result);
    };
    try {
      this.inner.export(metrics, done);
    } catch (error) {
      // The contract says export never throws; a broken exporter still must not escape the timer.
      done({
        code: ExportResultCode.FAILED,
        error: error instanceof Error ? error : new Error(String(error)),
      });
    }
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  private reportFailure(error: Error | undefined): void {
    const detail = error ? `${errorCode(error)}${error.message}` : 'no error detail';
    this.health.markDown(
      this.sink,
      `OTLP export to ${this.target} failed (${detail}); check the collector and OTEL_EXPORTER_OTLP_ENDPOINT`,
    );
  }
}

function errorCode(error: Error): string {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? `${code}: ` : '';
}
