/**
 * The reader in front of the file exporters. It collects with DELTA temporality so each step row
 * (from the StepProducer) and each histogram interval is exported exactly once, and it serializes
 * collect → export so batches reach the files in order even when a timer, a high-water signal and
 * an explicit flush race each other.
 */
import { diag } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import {
  AggregationTemporality,
  MetricReader,
  type MetricProducer,
  type PushMetricExporter,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { ConfigError } from '../errors.js';

export interface StepMetricReaderOptions {
  exporter: PushMetricExporter;
  producers: MetricProducer[];
  /** Collect this often; 0 means only on demand (high water, flush, shutdown). */
  exportIntervalMillis: number;
}

export class StepMetricReader extends MetricReader {
  private readonly exporter: PushMetricExporter;
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  private scheduled = false;
  private stopped = false;

  constructor(options: StepMetricReaderOptions) {
    super({
      aggregationTemporalitySelector: () => AggregationTemporality.DELTA,
      metricProducers: options.producers,
      // Step rows never pass through the SDK's storage, so the limit only applies to histograms.
      cardinalitySelector: () => 2000,
    });
    if (!Number.isFinite(options.exportIntervalMillis) || options.exportIntervalMillis < 0) {
      throw new ConfigError(
        'exportIntervalMillis',
        options.exportIntervalMillis,
        'a number of milliseconds >= 0',
      );
    }
    this.exporter = options.exporter;
    if (options.exportIntervalMillis > 0) {
      this.timer = setInterval(() => this.requestExport(), options.exportIntervalMillis);
      this.timer.unref();
    }
  }

  /** Asks for a collection soon (coalesced); used by the producer's high-water signal. */
  requestExport(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.exportOnce();
    });
  }

  /** Collects and exports now, after any export already queued. Never rejects. */
  exportOnce(): Promise<void> {
    this.chain = this.chain.then(() => this.collectAndExport());
    return this.chain;
  }

  /** Exports a collection that was produced synchronously (process exit path). */
  exportSync(resourceMetrics: ResourceMetrics): void {
    this.exporter.export(resourceMetrics, (result) => {
      if (result.code !== ExportResultCode.SUCCESS) diag.debug('codex-telemetry: exit-time export failed');
    });
  }

  protected override async onForceFlush(): Promise<void> {
    await this.exportOnce();
    await this.exporter.forceFlush();
  }

  protected override async onShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.exportOnce();
    this.stopped = true;
    await this.exporter.shutdown();
  }

  private async collectAndExport(): Promise<void> {
    try {
      const { resourceMetrics, errors } = await this.collect();
      for (const error of errors) diag.error('codex-telemetry: collection error', error);
      if (resourceMetrics.scopeMetrics.every((scope) => scope.metrics.length === 0)) return;
      await new Promise<void>((resolve) => {
        this.exporter.export(resourceMetrics, (result) => {
          if (result.code !== ExportResultCode.SUCCESS) {
            diag.debug(`codex-telemetry: file export failed: ${result.error?.message ?? 'unknown error'}`);
          }
          resolve();
        });
      });
    } catch (error) {
      // collect() rejects only after shutdown or from a broken producer: report, never throw from a timer.
      diag.error('codex-telemetry: step export failed', error);
    }
  }
}
