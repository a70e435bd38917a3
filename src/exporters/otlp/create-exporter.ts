/**
 * One official OTLP metric exporter per protocol. Each reads headers, compression, certificates and
 * the temporality preference from `process.env` by itself (exporter-env.ts checks them first); the
 * URL and timeout are passed so that what we print is where it sends.
 */
import { OTLPMetricExporter as GrpcMetricExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { OTLPMetricExporter as JsonMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as ProtobufMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import type { PushMetricExporter } from '@opentelemetry/sdk-metrics';
import type { OtlpProtocol } from '../../config.js';

export function createOtlpExporter(
  protocol: OtlpProtocol,
  url: string,
  timeoutMillis: number | undefined,
): PushMetricExporter {
  const options = timeoutMillis === undefined ? { url } : { url, timeoutMillis };
  switch (protocol) {
    case 'grpc':
      return new GrpcMetricExporter(options);
    case 'http/json':
      return new JsonMetricExporter(options);
    case 'http/protobuf':
      return new ProtobufMetricExporter(options);
  }
}
