import { describe, expect, it } from 'vitest';
import { resolveTrainConfig } from '../../../src/config/train-config.js';
import { otlpMetricsUrl } from '../../../src/exporters/otlp/env.js';
import { checkOtlpExporterEnv } from '../../../src/exporters/otlp/exporter-env.js';

function errorOf(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}

describe('OTLP protocol selection', () => {
  it('defaults to http/protobuf, as the OpenTelemetry spec does', () => {
    expect(resolveTrainConfig({}, {}).otlpProtocol).toBe('http/protobuf');
  });

  it('takes OTEL_EXPORTER_OTLP_METRICS_PROTOCOL over OTEL_EXPORTER_OTLP_PROTOCOL, and config over both', () => {
    const env = { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/json' };
    expect(resolveTrainConfig({}, { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }).otlpProtocol).toBe('grpc');
    expect(resolveTrainConfig({}, env).otlpProtocol).toBe('http/json');
    expect(resolveTrainConfig({ otlpProtocol: 'grpc' }, env).otlpProtocol).toBe('grpc');
  });

  it('refuses an unknown protocol with an error naming the variable it came from', () => {
    const error = errorOf(() => resolveTrainConfig({}, { OTEL_EXPORTER_OTLP_PROTOCOL: 'http' }));
    expect(error.message).toContain('OTEL_EXPORTER_OTLP_PROTOCOL');
    expect(error.message).toContain('http/protobuf, grpc, http/json');
    const fromMetrics = errorOf(() =>
      resolveTrainConfig({}, { OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'grpc/json' }),
    );
    expect(fromMetrics.message).toContain('OTEL_EXPORTER_OTLP_METRICS_PROTOCOL');
    expect(errorOf(() => resolveTrainConfig({ otlpProtocol: 'udp' as never }, {})).message).toContain(
      'otlpProtocol',
    );
  });
});

describe('otlpMetricsUrl follows the endpoint rules of the OTLP exporter spec', () => {
  it('appends /v1/metrics to the generic endpoint for HTTP only', () => {
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' };
    expect(otlpMetricsUrl(env, 'http/protobuf')).toBe('http://collector:4318/v1/metrics');
    expect(otlpMetricsUrl(env, 'http/json')).toBe('http://collector:4318/v1/metrics');
    expect(otlpMetricsUrl({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4317' }, 'grpc')).toBe('http://c:4317');
  });

  it('never appends to the signal-specific endpoint', () => {
    const env = {
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://generic:4318',
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://specific:4318/ingest',
    };
    expect(otlpMetricsUrl(env, 'http/protobuf')).toBe('http://specific:4318/ingest');
    expect(otlpMetricsUrl(env, 'grpc')).toBe('http://specific:4318/ingest');
  });

  it('uses each protocol’s default port without an endpoint', () => {
    expect(otlpMetricsUrl({}, 'http/protobuf')).toBe('http://localhost:4318/v1/metrics');
    expect(otlpMetricsUrl({}, 'grpc')).toBe('http://localhost:4317');
  });
});

describe('checkOtlpExporterEnv', () => {
  it.each([
    ['OTEL_EXPORTER_OTLP_COMPRESSION', 'zstd'],
    ['OTEL_EXPORTER_OTLP_METRICS_COMPRESSION', 'gz'],
    ['OTEL_EXPORTER_OTLP_TIMEOUT', '10s'],
    ['OTEL_EXPORTER_OTLP_METRICS_TIMEOUT', '0'],
    ['OTEL_EXPORTER_OTLP_INSECURE', 'yes please'],
    ['OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE', 'deltas'],
    ['OTEL_EXPORTER_OTLP_CERTIFICATE', '/nonexistent/ca.pem'],
    ['OTEL_EXPORTER_OTLP_METRICS_CLIENT_KEY', '/nonexistent/key.pem'],
  ])('names %s when it holds %j', (name, value) => {
    const error = errorOf(() => checkOtlpExporterEnv({ [name]: value }));
    expect(error.message).toContain(name);
    expect((error as { code?: string }).code).toBe('CONFIG_INVALID');
  });

  it('accepts the values the spec lists, in any case for the temporality', () => {
    expect(() =>
      checkOtlpExporterEnv({
        OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip',
        OTEL_EXPORTER_OTLP_METRICS_COMPRESSION: 'none',
        OTEL_EXPORTER_OTLP_TIMEOUT: '2500',
        OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'Delta',
        OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20abc,x-team=ml',
      }),
    ).not.toThrow();
  });

  it('names a malformed header variable and its key without ever showing a header value', () => {
    for (const headers of [
      'authorization=Bearer%ZZsecret-value',
      'authorization=secret-value,broken',
      'x-team=ml,=secret-value',
    ]) {
      const error = errorOf(() => checkOtlpExporterEnv({ OTEL_EXPORTER_OTLP_METRICS_HEADERS: headers }));
      expect(error.message).toContain('OTEL_EXPORTER_OTLP_METRICS_HEADERS');
      expect(error.message).not.toContain('secret-value');
    }
    const named = errorOf(() =>
      checkOtlpExporterEnv({ OTEL_EXPORTER_OTLP_HEADERS: 'api-key=%E0%A4%Asecret-value' }),
    );
    expect(named.message).toContain('key api-key');
    expect(named.message).not.toContain('secret-value');
  });
});
