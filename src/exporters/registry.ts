/**
 * Every sink this package ships, in the order they open: backends first (they create no files, so
 * a backend that cannot open leaves nothing behind), then the file sinks. `startTelemetry` takes
 * another list through `StartOptions.sinks`, e.g. `[...DEFAULT_SINKS, mySink]`.
 */
import type { SinkDefinition } from '../pipeline/sink-definition.js';
import { ndjsonSink } from './ndjson/sink.js';
import { otlpSink } from './otlp/sink.js';
import { prometheusSink } from './prometheus/sink.js';
import { tensorboardSink } from './tensorboard/sink.js';
import { wandbSink } from './wandb/sink.js';

export const DEFAULT_SINKS: readonly SinkDefinition[] = Object.freeze([
  prometheusSink,
  otlpSink,
  ndjsonSink,
  tensorboardSink,
  wandbSink,
]);
