/**
 * One PushMetricExporter in front of several file exporters, so the step rows are collected once
 * and each sink encodes them its own way. A failing sink never stops the others.
 */
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { AggregationTemporality, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { FileSinkExporter } from './file-sink.js';

export class FanOutExporter implements FileSinkExporter {
  readonly sinkName = 'fan-out';
  private readonly exporters: FileSinkExporter[];

  constructor(exporters: FileSinkExporter[]) {
    this.exporters = [...exporters];
  }

  /** Adds a sink (e.g. an evaluation stream opened mid-run); it sees collections from now on. */
  add(exporter: FileSinkExporter): void {
    this.exporters.push(exporter);
  }

  get children(): readonly FileSinkExporter[] {
    return this.exporters;
  }

  export(metrics: ResourceMetrics, resultCallback: (result: ExportResult) => void): void {
    let pending = this.exporters.length;
    let failure: Error | undefined;
    if (pending === 0) {
      resultCallback({ code: ExportResultCode.SUCCESS });
      return;
    }
    for (const exporter of this.exporters) {
      try {
        exporter.export(metrics, (result) => {
          if (result.code !== ExportResultCode.SUCCESS)
            failure ??= result.error ?? new Error(`${exporter.sinkName} export failed`);
          if (--pending === 0) {
            resultCallback(
              failure
                ? { code: ExportResultCode.FAILED, error: failure }
                : { code: ExportResultCode.SUCCESS },
            );
          }
        });
      } catch (error) {
        // export() must not throw by contract; if one does anyway, isolate it from its siblings.
        failure ??= error instanceof Error ? error : new Error(String(error));
        if (--pending === 0) resultCallback({ code: ExportResultCode.FAILED, error: failure });
      }
    }
  }

  async forceFlush(): Promise<void> {
    await Promise.all(this.exporters.map((exporter) => exporter.forceFlush()));
  }

  async shutdown(): Promise<void> {
    await Promise.all(this.exporters.map((exporter) => exporter.shutdown()));
  }

  flushSync(): void {
    for (const exporter of this.exporters) exporter.flushSync();
  }

  selectAggregationTemporality(): AggregationTemporality {
    return AggregationTemporality.DELTA;
  }
}
