import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { MeterProvider, type MetricReader } from '@opentelemetry/sdk-metrics';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { createPrometheusReader } from '../../../src/exporters/prometheus/create-reader.js';
import { secondsHistogramViews } from '../../../src/instruments/histogram-views.js';
import { SinkHealth } from '../../../src/health.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

function recordingHealth(): { health: SinkHealth; warnings: string[] } {
  const warnings: string[] = [];
  return { health: new SinkHealth((message) => warnings.push(message)), warnings };
}

/** Holds a loopback port the way another rank or process would. */
async function occupyPort(port = 0): Promise<{ server: Server; port: number }> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port }, resolve);
  });
  cleanups.push(() => new Promise((resolve) => server.close(() => resolve())));
  return { server, port: (server.address() as AddressInfo).port };
}

function providerWith(reader: MetricReader): MeterProvider {
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': 'codex-test', 'codex.run_id': 'run42' }),
    readers: [reader],
    views: secondsHistogramViews(),
  });
  cleanups.push(() => provider.shutdown());
  return provider;
}

describe('createPrometheusReader', () => {
  it('picks a free port for port 0, prints it, and serves the recorded values', async () => {
    const { health } = recordingHealth();
    const lines: string[] = [];
    const { reader, url, port } = await createPrometheusReader({
      port: 0,
      health,
      log: (l) => lines.push(l),
    });
    expect(reader).toBeDefined();
    expect(port).toBeGreaterThan(0);
    expect(url).toBe(`http://127.0.0.1:${port}/metrics`);
    expect(lines).toEqual([`metrics: http://127.0.0.1:${port}/metrics`]);

    const meter = providerWith(reader as MetricReader).getMeter('codex-telemetry', '0.1.0');
    meter.createObservableGauge('loss').addCallback((r) => r.observe(0.25, { phase: 'train' }));
    meter.createCounter('codex.steps', { unit: '{step}' }).add(7, { phase: 'train' });
    meter.createHistogram('codex.step.duration', { unit: 's' }).record(0.04);

    const body = await (await fetch(url as string)).text();
    expect(body).toContain('loss{phase="train"} 0.25');
    expect(body).toContain('codex_steps_total{phase="train"} 7');
    expect(body).toContain('codex_step_duration_bucket{le="0.05"} 1');
    expect(body).toContain('codex_step_duration_bucket{le="0.025"} 0');
    expect(body).toMatch(/^target_info\{.*service_name="codex-test".*codex_run_id="run42".*\} 1$/m);
    expect(body).not.toContain('otel_scope_name');
    expect(health.isUp('prometheus')).toBe(true);
  });

  it('adds scope labels only when asked to', async () => {
    const { health } = recordingHealth();
    const { reader, url } = await createPrometheusReader({ port: 0, health, withScopeInfo: true });
    providerWith(reader as MetricReader)
      .getMeter('codex-telemetry', '0.1.0')
      .createObservableGauge('loss')
      .addCallback((r) => r.observe(1));
    const body = await (await fetch(url as string)).text();
    expect(body).toContain('loss{otel_scope_name="codex-telemetry",otel_scope_version="0.1.0"} 1');
  });

  it('warns once and returns no reader when the port is already in use, without crashing', async () => {
    const held = await occupyPort();
    const { health, warnings } = recordingHealth();
    const lines: string[] = [];
    const first = await createPrometheusReader({ port: held.port, health, log: (l) => lines.push(l) });
    const second = await createPrometheusReader({ port: held.port, health });
    expect(first).toEqual({ reader: undefined, url: undefined, port: undefined });
    expect(second.reader).toBeUndefined();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`127.0.0.1:${held.port}`);
    expect(warnings[0]).toContain('EADDRINUSE');
    expect(warnings[0]).toContain('prometheus');
    expect(lines).toEqual([]);
    expect(health.isUp('prometheus')).toBe(false);
  });

  it('serves each local rank on port + LOCAL_RANK', async () => {
    // Find a free port, release it, and ask rank 3 to land exactly there.
    const probe = await occupyPort();
    const target = probe.port;
    await new Promise<void>((resolve) => probe.server.close(() => resolve()));
    const { health } = recordingHealth();
    const lines: string[] = [];
    const { reader, port, url } = await createPrometheusReader({
      port: target - 3,
      localRank: 3,
      health,
      log: (l) => lines.push(l),
    });
    cleanups.push(async () => reader?.shutdown());
    expect(port).toBe(target);
    expect(url).toBe(`http://127.0.0.1:${target}/metrics`);
    expect(lines).toEqual([`metrics: http://127.0.0.1:${target}/metrics`]);
  });

  it('answers 404 outside /metrics', async () => {
    const { health } = recordingHealth();
    const { reader, port } = await createPrometheusReader({ port: 0, health });
    cleanups.push(async () => reader?.shutdown());
    const response = await fetch(`http://127.0.0.1:${port}/other`);
    expect(response.status).toBe(404);
    const withQuery = await fetch(`http://127.0.0.1:${port}/metrics?x=1`);
    expect(withQuery.status).toBe(200);
  });

  it('closes the server on shutdown even while a scraper holds a keep-alive connection', async () => {
    const { health } = recordingHealth();
    const { reader, url } = await createPrometheusReader({ port: 0, health });
    providerWith(reader as MetricReader);
    expect((await fetch(url as string, { headers: { connection: 'keep-alive' } })).status).toBe(200);
    const started = Date.now();
    await reader?.shutdown();
    expect(Date.now() - started).toBeLessThan(2000);
    await expect(fetch(url as string)).rejects.toThrow();
  });

  it('rejects a malformed port or host before opening anything', async () => {
    const { health } = recordingHealth();
    await expect(createPrometheusReader({ port: 70000, health })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
    });
    await expect(createPrometheusReader({ port: 1.5, health })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
    });
    await expect(createPrometheusReader({ host: ' ', health })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
    });
    await expect(createPrometheusReader({ port: 65535, localRank: 1, health })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
    });
  });
});
