/** Public API of codex-telemetry. */
export { startTelemetry, Telemetry, EvaluationStream } from './telemetry.js';
export type { LogOptions, OutputPaths, Scalars, StartOptions } from './telemetry.js';
export {
  resolveTrainConfig,
  resolveEvaluationConfig,
  DEFAULT_METRICS_OUT,
  DEFAULT_EVAL_METRICS_OUT,
} from './config.js';
export type { EvaluationConfig, ResolvedTrainConfig, TrainConfig } from './config.js';
export { TelemetryError, ConfigError } from './errors.js';
export type { TelemetryErrorCode } from './errors.js';
export type { Phase, Step, StepRow } from './instruments/step-row.js';
export { SinkHealth } from './pipeline/sink-health.js';
export { NdjsonExporter } from './exporters/ndjson/ndjson-exporter.js';
export { StepProducer } from './instruments/step-producer.js';
export { StepMetricReader } from './pipeline/step-metric-reader.js';
