/**
 * OTLP push over http/protobuf, gRPC or http/json: a PeriodicExportingMetricReader around the
 * official exporter for the protocol, switched on by the standard endpoint variables or by config. Export failures never throw out of the reader's timer
 * (the SDK reports them through `diag`); the first one also marks the `otlp` sink down.
 */
import {
  PeriodicExportingMetricReader,
  type MetricProducer,
  type MetricReader,
} from '@opentelemetry/sdk-metrics';
import type { OtlpProtocol } from '../../config/train-config.js';
import type { SinkHealth } from '../../health.js';
import { createOtlpExporter } from './create-exporter.js';
import { exportIntervalsFromEnv, otlpEndpointConfigured, otlpMetricsUrl } from './env.js';
import { checkOtlpExporterEnv } from './exporter-env.js';
import { HealthReportingExporter } from './health-reporting-exporter.js';

export const OTLP_SINK = 'otlp';

export interface OtlpReaderOptions {
  /**
   * Decides whether to push, the endpoint and the export interval (`OTEL_METRIC_EXPORT_INTERVAL`/
   * `_TIMEOUT`), and is checked for every OTLP variable. The exporter packages read headers,
   * compression, certificates and temporality from `process.env` themselves, so those follow
   * `process.env` even when another object is passed here.
   */
  env: NodeJS.ProcessEnv;
  /** Force on or off; default: on when an OTLP endpoint variable is set. */
  enabled?: boolean;
  health: SinkHealth;
  /** Default `http/protobuf`, the spec's default (config `otlpProtocol`, `OTEL_EXPORTER_OTLP_PROTOCOL`). */
  protocol?: OtlpProtocol;
  /** Extra sources merged into every export (e.g. LastValueGauges for training scalars). */
  metricProducers?: MetricProducer[];
  /**
   * The longest one export waits for the collector, retries included, and so the longest shutdown
   * waits for an unreachable one (config `otlpShutdownTimeout`, default 2 s). Without it the
   * exporter's 10 s default plus the reader's final export added about 8-12 s to every shutdown.
   * `OTEL_EXPORTER_OTLP_TIMEOUT` / `OTEL_EXPORTER_OTLP_METRICS_TIMEOUT`, when set, still win.
   */
  timeoutMillis?: number;
}

/** Returns the reader to add to the MeterProvider, or undefined when OTLP is off. */
export function createOtlpReader(options: OtlpReaderOptions): MetricReader | undefined {
  const enabled = options.enabled ?? otlpEndpointConfigured(options.env);
  if (!enabled) return undefined;
  const intervals = exportIntervalsFromEnv(options.env);
  checkOtlpExporterEnv(options.env);
  const url = otlpMetricsUrl(options.env, options.protocol ?? 'http/protobuf');
  // OTEL_EXPORTER_OTLP_[METRICS_]TIMEOUT (checked above) wins over the config's shutdown timeout.
  const envTimeout = [options.env.OTEL_EXPORTER_OTLP_METRICS_TIMEOUT, options.env.OTEL_EXPORTER_OTLP_TIMEOUT]
    .map((value) => value?.trim())
    .find((value) => value !== undefined && value !== '');
  const timeoutMillis = envTimeout === undefined ? options.timeoutMillis : Number(envTimeout);
  const exporter = new HealthReportingExporter({
    inner: createOtlpExporter(options.protocol ?? 'http/protobuf', url, timeoutMillis),
    health: options.health,
    sink: OTLP_SINK,
    target: url,
  });
  return new PeriodicExportingMetricReader({
    exporter,
    ...intervals,
    exportTimeoutMillis:
      timeoutMillis === undefined
        ? intervals.exportTimeoutMillis
        : Math.min(intervals.exportTimeoutMillis, timeoutMillis),
    metricProducers: options.metricProducers,
  });
}
