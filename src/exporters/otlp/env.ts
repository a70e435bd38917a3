/**
 * Where OTLP goes and how often: the endpoint by the spec's rules for each protocol, and the `OTEL_*`
 * interval variables the SDK's PeriodicExportingMetricReader does not read itself.
 *
 * The official exporters (`exporter-metrics-otlp-http`, `-proto`, `-grpc` 0.223) read headers,
 * timeout, compression, certificates and `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE` from
 * `process.env` themselves; exporter-env.ts checks those.
 */
import type { OtlpProtocol } from '../../config/train-config.js';
import { ConfigError } from '../../errors.js';

/** Spec defaults (OpenTelemetry SDK environment variables). */
export const DEFAULT_EXPORT_INTERVAL_MS = 60_000;
export const DEFAULT_EXPORT_TIMEOUT_MS = 30_000;
/** Where the exporter sends when enabled without an endpoint (the spec's defaults). */
export const DEFAULT_OTLP_HTTP_METRICS_URL = 'http://localhost:4318/v1/metrics';
export const DEFAULT_OTLP_GRPC_URL = 'http://localhost:4317';

export interface ExportIntervals {
  exportIntervalMillis: number;
  exportTimeoutMillis: number;
}

/** True when either endpoint variable is set: the standard way to switch OTLP push on. */
export function otlpEndpointConfigured(env: NodeJS.ProcessEnv): boolean {
  return (
    text(env, 'OTEL_EXPORTER_OTLP_ENDPOINT') !== undefined ||
    text(env, 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT') !== undefined
  );
}

/**
 * `OTEL_METRIC_EXPORT_INTERVAL` / `OTEL_METRIC_EXPORT_TIMEOUT` in milliseconds. A timeout longer than
 * the interval is clamped to it when it came from the default, and refused when both were given
 * (the SDK would throw a less helpful error from the reader's constructor).
 */
export function exportIntervalsFromEnv(env: NodeJS.ProcessEnv): ExportIntervals {
  const interval = positiveMillis(env, 'OTEL_METRIC_EXPORT_INTERVAL');
  const timeout = positiveMillis(env, 'OTEL_METRIC_EXPORT_TIMEOUT');
  const exportIntervalMillis = interval ?? DEFAULT_EXPORT_INTERVAL_MS;
  if (timeout !== undefined && timeout > exportIntervalMillis) {
    throw new ConfigError(
      'OTEL_METRIC_EXPORT_TIMEOUT',
      String(timeout),
      `at most OTEL_METRIC_EXPORT_INTERVAL (${exportIntervalMillis} ms)`,
    );
  }
  return {
    exportIntervalMillis,
    exportTimeoutMillis: Math.min(timeout ?? DEFAULT_EXPORT_TIMEOUT_MS, exportIntervalMillis),
  };
}

/**
 * The URL one protocol sends to, by the spec's rules: `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT` as
 * given; else `OTEL_EXPORTER_OTLP_ENDPOINT`, with `/v1/metrics` appended for HTTP only (gRPC names
 * the service in the call, not the path); else the protocol's default.
 */
export function otlpMetricsUrl(env: NodeJS.ProcessEnv, protocol: OtlpProtocol): string {
  const specific = text(env, 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT');
  if (specific !== undefined) return specific;
  const generic = text(env, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  if (protocol === 'grpc') return generic ?? DEFAULT_OTLP_GRPC_URL;
  if (generic !== undefined) return `${generic.replace(/\/+$/, '')}/v1/metrics`;
  return DEFAULT_OTLP_HTTP_METRICS_URL;
}

function text(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

function positiveMillis(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const value = text(env, name);
  if (value === undefined) return undefined;
  // The SDK throws for 0 ("exportIntervalMillis must be greater than 0"); say which variable did it.
  if (!/^\d+$/.test(value) || Number(value) <= 0) {
    throw new ConfigError(name, value, `a whole number of milliseconds > 0 (environment variable ${name})`);
  }
  return Number(value);
}
