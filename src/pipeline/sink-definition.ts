/**
 * How a sink joins a run: one entry per sink in a registry (src/exporters/registry.ts), saying
 * when the config enables it, what to check before anything opens, and how to open it. A file
 * sink opens as a RowSink that the pipeline feeds; a backend (Prometheus, OTLP) opens as an OTel
 * MetricReader on the backend MeterProvider. Adding a sink means a folder and an entry here.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { MetricProducer, MetricReader } from '@opentelemetry/sdk-metrics';
import type { ResolvedTrainConfig } from '../config/train-config.js';
import type { RowSink } from './row-sink.js';
import type { SinkHealth } from '../health.js';

/** More routes on the /metrics server (the dashboard under `/`): true when the request was answered. */
export type HttpRoutes = (request: IncomingMessage, response: ServerResponse) => boolean;

/** Where each sink writes, for the demo's report and for users who want to print it. */
export interface OutputPaths {
  metricsOut?: string;
  evalMetricsOut: string[];
  tensorboardDir?: string;
  wandbRunDir?: string;
  metricsUrl?: string;
  /** run_manifest.json files written by checkpointSaved(). */
  manifests?: string[];
  /** Paths of sinks registered outside this package, by sink name. */
  other?: Record<string, string>;
}

export interface SinkContext {
  readonly config: ResolvedTrainConfig;
  readonly env: NodeJS.ProcessEnv;
  readonly health: SinkHealth;
  /** Informational lines (the /metrics URL, removed segments). */
  readonly info: (line: string) => void;
  /** Unix seconds when the run started. */
  readonly startTime: number;
  /** Streams the main NDJSON file holds (default train + system; the bridge keeps only system). */
  readonly trainStreams: readonly string[];
  /** Sources every backend reader includes (the training scalars' last-value gauges). */
  readonly metricProducers: readonly MetricProducer[];
  /** More routes for the /metrics server (the CLI's `--dashboard`). */
  readonly httpRoutes?: HttpRoutes;
}

/** What opening a sink produced: rows go to `rowSink`, backends read through `reader`. */
export interface OpenedSink {
  readonly rowSink?: RowSink;
  readonly reader?: MetricReader;
  readonly paths?: Partial<OutputPaths>;
}

/** An evaluation stream: its id (carried by its rows) and the file it asked for. */
export interface StreamRequest {
  readonly id: string;
  readonly path: string;
  /** 0 for the first evaluation stream, 1 for the next... (health names stay distinct). */
  readonly index: number;
}

export interface SinkDefinition {
  /** Registry name; also the health name of the sink it opens, unless the sink says otherwise. */
  readonly name: string;
  enabled(config: ResolvedTrainConfig, env: NodeJS.ProcessEnv): boolean;
  /**
   * Throws a ConfigError for a setting that would otherwise only fail while opening. Runs for
   * every enabled sink before any sink opens, so a bad config creates no file at all.
   */
  validate?(config: ResolvedTrainConfig, env: NodeJS.ProcessEnv): void;
  open(context: SinkContext): OpenedSink | Promise<OpenedSink>;
  /**
   * Opens a sink for one evaluation stream's rows (NDJSON: its own file). `paths`: where the sinks
   * opened at start write (an eval stream follows its train stream's placement).
   */
  openStream?(context: SinkContext, stream: StreamRequest, paths: Readonly<OutputPaths>): OpenedSink;
}
