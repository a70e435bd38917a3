/** Public API of codex-telemetry. */
export { startTelemetry, Telemetry, EvaluationStream } from './telemetry.js';
export type { LogOptions, OutputPaths, Scalars, StartOptions } from './telemetry.js';
export {
  resolveTrainConfig,
  resolveEvaluationConfig,
  DEFAULT_METRICS_OUT,
  DEFAULT_EVAL_METRICS_OUT,
} from './config/train-config.js';
export type { EvaluationConfig, ResolvedTrainConfig, TrainConfig } from './config/train-config.js';
export { TelemetryError, ConfigError } from './errors.js';
export type { TelemetryErrorCode } from './errors.js';
export type { Phase, Step, StepRow } from './step.js';
export { SinkHealth } from './health.js';
export type { WarnFn } from './health.js';
export type { CheckpointOptions } from './runtime/checkpoint.js';
export { NdjsonExporter } from './exporters/ndjson/ndjson-exporter.js';
export type { NdjsonExporterOptions } from './exporters/ndjson/ndjson-exporter.js';
export { TensorBoardExporter } from './exporters/tensorboard/tensorboard-exporter.js';
export type { TensorBoardExporterOptions } from './exporters/tensorboard/tensorboard-exporter.js';
export { WandbExporter } from './exporters/wandb/wandb-exporter.js';
export type { WandbExporterOptions } from './exporters/wandb/wandb-exporter.js';
export { RotationPolicy } from './exporters/file/rotation-policy.js';
export type { RotationPolicyOptions } from './exporters/file/rotation-policy.js';
export { DEFAULT_SINKS } from './exporters/registry.js';
export type { Row } from './pipeline/row.js';
export type { RowSink, RunOutcome, StepTimeHistogram } from './pipeline/row-sink.js';
export type { OpenedSink, SinkContext, SinkDefinition, StreamRequest } from './pipeline/sink-definition.js';
