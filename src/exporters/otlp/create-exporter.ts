/**
 * One official OTLP metric exporter per protocol. Each reads headers, compression, certificates and
 * the temporality preference from `process.env` by itself (exporter-env.ts checks them first); the
 * URL and timeout are passed so that what we print is where it sends.
 */
import { OTLPMetricExporter as GrpcMetricExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { OTLPMetricExporter as JsonMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as ProtobufMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import type { PushMetricExporter } from '@opentelemetry/sdk-metrics';
import type { OtlpProtocol } from '../../config/train-config.js';
import { RetryingGrpcExporter } from './grpc-retry.js';

/** The exporters' own default when neither config nor OTEL_EXPORTER_OTLP_[METRICS_]TIMEOUT set one. */
const EXPORTER_DEFAULT_TIMEOUT_MS = 10_000;

export function createOtlpExporter(
  protocol: OtlpProtocol,
  url: string,
  timeoutMillis: number | undefined,
): PushMetricExporter {
  const options = timeoutMillis === undefined ? { url } : { url, timeoutMillis };
  switch (protocol) {
    case 'grpc':
      // The official gRPC exporter does not retry; the spec's retry is added around it.
      return new RetryingGrpcExporter({
        inner: new GrpcMetricExporter(options),
        timeoutMillis: timeoutMillis ?? EXPORTER_DEFAULT_TIMEOUT_MS,
      });
    case 'http/json':
      return new JsonMetricExporter(options);
    case 'http/protobuf':
      return new ProtobufMetricExporter(options);
  }
}
