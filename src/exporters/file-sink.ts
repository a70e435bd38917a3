/**
 * The contract every file exporter (NDJSON, TensorBoard, W&B) fulfils on top of OpenTelemetry's
 * PushMetricExporter: it receives step rows inside ResourceMetrics from the StepMetricReader,
 * and can push its buffered bytes out synchronously at process exit, when no promise will run.
 */
import type { PushMetricExporter } from '@opentelemetry/sdk-metrics';

export interface FileSinkExporter extends PushMetricExporter {
  /** Name used for health reporting (`codex_sink_up{sink=...}`). */
  readonly sinkName: string;
  /** Writes everything already encoded with blocking calls. Used only from `process.on('exit')`. */
  flushSync(): void;
}
