import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MeterProvider, type MetricReader } from '@opentelemetry/sdk-metrics';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { createOtlpReader } from '../../../src/exporters/otlp/create-reader.js';
import { secondsHistogramViews } from '../../../src/instruments/histogram-views.js';
import { LastValueGauges } from '../../../src/instruments/last-value-gauges.js';
import { SinkHealth } from '../../../src/health.js';
import { attributesOf, metricsByName, OtlpReceiver, type OtlpMetricsRequest } from './otlp-receiver.js';

const DELTA = 1;
const CUMULATIVE = 2;

let receiver: OtlpReceiver;
const providers: MeterProvider[] = [];

beforeEach(async () => {
  receiver = await OtlpReceiver.start();
});
afterEach(async () => {
  for (const provider of providers.splice(0)) await provider.shutdown();
  vi.unstubAllEnvs();
  await receiver.close();
});

function firstBody(): OtlpMetricsRequest {
  const first = receiver.received[0];
  if (first === undefined) throw new Error('the OTLP receiver got no export');
  return first.body;
}

function recordingHealth(): { health: SinkHealth; warnings: string[] } {
  const warnings: string[] = [];
  return { health: new SinkHealth((message) => warnings.push(message)), warnings };
}

function trainingProvider(reader: MetricReader): MeterProvider {
  const provider = new MeterProvider({
    resource: resourceFromAttributes({
      'service.name': 'codex-otlp-test',
      'codex.run_id': 'run-otlp',
      'codex.rank': 1,
      'codex.world_size': 4,
    }),
    readers: [reader],
    views: secondsHistogramViews(),
  });
  providers.push(provider);
  const meter = provider.getMeter('codex-telemetry', '0.1.0');
  meter.createObservableGauge('loss', { description: 'training loss' }).addCallback((r) => {
    r.observe(0.125, { phase: 'train' });
  });
  meter.createCounter('codex.steps', { unit: '{step}' }).add(3, { phase: 'train' });
  const histogram = meter.createHistogram('codex.step.duration', { unit: 's' });
  histogram.record(0.02);
  histogram.record(0.3);
  return provider;
}

describe('createOtlpReader', () => {
  it('pushes resource attributes, names, units and values to OTEL_EXPORTER_OTLP_ENDPOINT with its headers', async () => {
    vi.stubEnv('OTEL_EXPORTER_OTLP_ENDPOINT', receiver.url);
    vi.stubEnv('OTEL_EXPORTER_OTLP_HEADERS', 'x-codex-token=secret42,x-team=ml');
    const { health, warnings } = recordingHealth();
    const reader = createOtlpReader({ protocol: 'http/json', env: process.env, health });
    expect(reader).toBeDefined();
    trainingProvider(reader as MetricReader);
    await reader?.forceFlush();
    await receiver.waitFor(1);

    const [first] = receiver.received;
    expect(first?.path).toBe('/v1/metrics');
    expect(first?.headers['x-codex-token']).toBe('secret42');
    expect(first?.headers['x-team']).toBe('ml');
    expect(first?.headers['content-type']).toContain('application/json');
    const body = firstBody();
    expect(attributesOf(body.resourceMetrics[0]?.resource.attributes)).toMatchObject({
      'service.name': 'codex-otlp-test',
      'codex.run_id': 'run-otlp',
      'codex.rank': 1,
      'codex.world_size': 4,
    });
    const metrics = metricsByName(body);
    const loss = metrics.get('loss');
    expect(loss?.description).toBe('training loss');
    expect(loss?.gauge?.dataPoints[0]?.asDouble).toBe(0.125);
    expect(attributesOf(loss?.gauge?.dataPoints[0]?.attributes)).toEqual({ phase: 'train' });
    const steps = metrics.get('codex.steps');
    expect(steps?.unit).toBe('{step}');
    expect(steps?.sum?.isMonotonic).toBe(true);
    expect(steps?.sum?.aggregationTemporality).toBe(CUMULATIVE);
    expect(steps?.sum?.dataPoints[0]?.asDouble).toBe(3);
    const duration = metrics.get('codex.step.duration');
    expect(duration?.unit).toBe('s');
    const point = duration?.histogram?.dataPoints[0];
    expect(Number(point?.count)).toBe(2);
    expect(point?.sum).toBeCloseTo(0.32, 10);
    expect(point?.explicitBounds).toContain(0.025);
    expect(point?.explicitBounds).toContain(0.5);
    expect(warnings).toEqual([]);
    expect(health.isUp('otlp')).toBe(true);
  });

  it('pushes LastValueGauges passed as a metric producer under the provider’s resource', async () => {
    vi.stubEnv('OTEL_EXPORTER_OTLP_ENDPOINT', receiver.url);
    const gauges = new LastValueGauges({ scope: { name: 'codex-telemetry', version: '0.1.0' } });
    gauges.gauge('accuracy', { unit: '1' }).set(0.875, { phase: 'eval' });
    const reader = createOtlpReader({
      protocol: 'http/json',
      env: process.env,
      health: recordingHealth().health,
      metricProducers: [gauges],
    });
    trainingProvider(reader as MetricReader);
    await reader?.forceFlush();
    await receiver.waitFor(1);
    const body = firstBody();
    expect(body.resourceMetrics).toHaveLength(1);
    expect(attributesOf(body.resourceMetrics[0]?.resource.attributes)['codex.run_id']).toBe('run-otlp');
    const accuracy = metricsByName(body).get('accuracy');
    expect(accuracy?.unit).toBe('1');
    expect(accuracy?.gauge?.dataPoints[0]?.asDouble).toBe(0.875);
    expect(attributesOf(accuracy?.gauge?.dataPoints[0]?.attributes)).toEqual({ phase: 'eval' });
  });

  it('prefers OTEL_EXPORTER_OTLP_METRICS_ENDPOINT as the full URL', async () => {
    vi.stubEnv('OTEL_EXPORTER_OTLP_ENDPOINT', 'http://127.0.0.1:9/unused');
    vi.stubEnv('OTEL_EXPORTER_OTLP_METRICS_ENDPOINT', `${receiver.url}/custom/path`);
    const reader = createOtlpReader({
      protocol: 'http/json',
      env: process.env,
      health: recordingHealth().health,
    });
    trainingProvider(reader as MetricReader);
    await reader?.forceFlush();
    await receiver.waitFor(1);
    expect(receiver.received[0]?.path).toBe('/custom/path');
  });

  it('pushes on its own every OTEL_METRIC_EXPORT_INTERVAL milliseconds', async () => {
    vi.stubEnv('OTEL_EXPORTER_OTLP_ENDPOINT', receiver.url);
    vi.stubEnv('OTEL_METRIC_EXPORT_INTERVAL', '100');
    const reader = createOtlpReader({
      protocol: 'http/json',
      env: process.env,
      health: recordingHealth().health,
    });
    trainingProvider(reader as MetricReader);
    const started = Date.now();
    await receiver.waitFor(2, 5000);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('sends delta sums when OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE=delta', async () => {
    vi.stubEnv('OTEL_EXPORTER_OTLP_ENDPOINT', receiver.url);
    vi.stubEnv('OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE', 'delta');
    const reader = createOtlpReader({
      protocol: 'http/json',
      env: process.env,
      health: recordingHealth().health,
    });
    trainingProvider(reader as MetricReader);
    await reader?.forceFlush();
    await receiver.waitFor(1);
    const steps = metricsByName(firstBody()).get('codex.steps');
    expect(steps?.sum?.aggregationTemporality).toBe(DELTA);
  });

  it('stays off without an endpoint unless config enables it, and config can switch it off', () => {
    const { health } = recordingHealth();
    expect(createOtlpReader({ protocol: 'http/json', env: {}, health })).toBeUndefined();
    expect(
      createOtlpReader({ protocol: 'http/json', env: { OTEL_EXPORTER_OTLP_ENDPOINT: '  ' }, health }),
    ).toBeUndefined();
    expect(
      createOtlpReader({
        protocol: 'http/json',
        env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url },
        enabled: false,
        health,
      }),
    ).toBeUndefined();
    const forced = createOtlpReader({ protocol: 'http/json', env: {}, enabled: true, health });
    // Never bound to a MeterProvider, so it starts no timer and sends nothing.
    expect(forced).toBeDefined();
  });

  it('marks the otlp sink down with one warning when the collector rejects exports, and its flushes still resolve', async () => {
    vi.stubEnv('OTEL_EXPORTER_OTLP_ENDPOINT', receiver.url);
    receiver.status = 400;
    const { health, warnings } = recordingHealth();
    const reader = createOtlpReader({ protocol: 'http/json', env: process.env, health });
    trainingProvider(reader as MetricReader);
    await expect(reader?.forceFlush()).resolves.toBeUndefined();
    await expect(reader?.forceFlush()).resolves.toBeUndefined();
    expect(health.isUp('otlp')).toBe(false);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`${receiver.url}/v1/metrics`);
    expect(warnings[0]).toContain('otlp');
  });

  it('brings the otlp sink back up when the collector recovers, and warns again on the next outage', async () => {
    vi.stubEnv('OTEL_EXPORTER_OTLP_ENDPOINT', receiver.url);
    receiver.status = 503;
    const { health, warnings } = recordingHealth();
    const reader = createOtlpReader({ protocol: 'http/json', env: process.env, health });
    trainingProvider(reader as MetricReader);
    await expect(reader?.forceFlush()).resolves.toBeUndefined();
    expect(health.isUp('otlp')).toBe(false);
    receiver.status = 200;
    await reader?.forceFlush();
    expect(health.isUp('otlp')).toBe(true);
    receiver.status = 400;
    await expect(reader?.forceFlush()).resolves.toBeUndefined();
    expect(health.isUp('otlp')).toBe(false);
    expect(warnings).toHaveLength(2);
  });

  it('marks the otlp sink down when nothing listens at the endpoint', async () => {
    const closed = await OtlpReceiver.start();
    const deadUrl = closed.url;
    await closed.close();
    vi.stubEnv('OTEL_EXPORTER_OTLP_ENDPOINT', deadUrl);
    vi.stubEnv('OTEL_EXPORTER_OTLP_TIMEOUT', '300');
    const { health, warnings } = recordingHealth();
    const reader = createOtlpReader({ protocol: 'http/json', env: process.env, health });
    trainingProvider(reader as MetricReader);
    await expect(reader?.forceFlush()).resolves.toBeUndefined();
    expect(health.isUp('otlp')).toBe(false);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(deadUrl);
  });

  it('names the variable when the export interval is malformed', () => {
    const { health } = recordingHealth();
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url };
    expect(() =>
      createOtlpReader({ protocol: 'http/json', env: { ...env, OTEL_METRIC_EXPORT_INTERVAL: '0' }, health }),
    ).toThrow(/OTEL_METRIC_EXPORT_INTERVAL/);
    expect(() =>
      createOtlpReader({ protocol: 'http/json', env: { ...env, OTEL_METRIC_EXPORT_INTERVAL: '5s' }, health }),
    ).toThrow(/OTEL_METRIC_EXPORT_INTERVAL/);
    expect(() =>
      createOtlpReader({
        protocol: 'http/json',
        env: { ...env, OTEL_METRIC_EXPORT_INTERVAL: '1000', OTEL_METRIC_EXPORT_TIMEOUT: '5000' },
        health,
      }),
    ).toThrow(/OTEL_METRIC_EXPORT_TIMEOUT/);
  });
});
