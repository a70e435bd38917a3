import { afterEach, describe, expect, it } from 'vitest';
import { MeterProvider, type MetricReader } from '@opentelemetry/sdk-metrics';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ValueType } from '@opentelemetry/api';
import { createPrometheusReader } from '../../src/exporters/prometheus/create-reader.js';
import { LastValueGauges } from '../../src/instruments/last-value-gauges.js';
import { SinkHealth } from '../../src/health.js';
import { ConfigError } from '../../src/errors.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function serve(gauges: LastValueGauges): Promise<() => Promise<string>> {
  const { reader, url } = await createPrometheusReader({
    port: 0,
    health: new SinkHealth(() => undefined),
    metricProducers: [gauges],
  });
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': 'codex-lvg', 'codex.run_id': 'lvg1' }),
    readers: [reader as MetricReader],
  });
  cleanups.push(() => provider.shutdown());
  return async () => (await fetch(url as string)).text();
}

describe('LastValueGauges', () => {
  it('serves the last value set per attribute set, beside the provider’s own instruments and resource', async () => {
    const gauges = new LastValueGauges({ scope: { name: 'codex-telemetry', version: '0.1.0' } });
    const loss = gauges.gauge('loss', { description: 'training loss' });
    const train = loss.series({ phase: 'train' });
    const evalSeries = loss.series({ phase: 'eval' });
    const scrape = await serve(gauges);
    train.set(0.9);
    train.set(0.4);
    evalSeries.set(0.55);
    const body = await scrape();
    expect(body).toContain('# HELP loss training loss');
    expect(body).toContain('# TYPE loss gauge');
    expect(body).toContain('loss{phase="train"} 0.4');
    expect(body).toContain('loss{phase="eval"} 0.55');
    expect(body).toMatch(/^target_info\{service_name="codex-lvg",codex_run_id="lvg1".*\} 1$/m);
    expect(body).not.toContain('otel_scope_name');
  });

  it('leaves out series that never had a value, and series cleared since', async () => {
    const gauges = new LastValueGauges({ scope: { name: 'codex-telemetry' } });
    const lr = gauges.gauge('lr');
    lr.series({ phase: 'eval' });
    const train = lr.series({ phase: 'train' });
    gauges.gauge('never_set').series();
    const scrape = await serve(gauges);
    expect(await scrape()).not.toMatch(/^lr|never_set/m);
    train.set(0);
    expect(await scrape()).toContain('lr{phase="train"} 0');
    expect(await scrape()).not.toContain('lr{phase="eval"}');
    train.clear();
    expect(await scrape()).not.toMatch(/^lr/m);
  });

  it('keeps non-finite values as Prometheus spells them', async () => {
    const gauges = new LastValueGauges({ scope: { name: 'codex-telemetry' } });
    gauges.gauge('grad_norm').set(Number.POSITIVE_INFINITY, { phase: 'train' });
    gauges.gauge('loss').set(Number.NaN, { phase: 'train' });
    const body = await (await serve(gauges))();
    expect(body).toContain('grad_norm{phase="train"} +Inf');
    expect(body).toContain('loss{phase="train"} NaN');
  });

  it('returns one series for the same attributes in any key order, and one gauge per name', () => {
    const gauges = new LastValueGauges({ scope: { name: 'codex-telemetry' } });
    const gauge = gauges.gauge('throughput', { unit: '{sample}/s', valueType: ValueType.DOUBLE });
    expect(gauge.series({ a: '1', b: '2' })).toBe(gauge.series({ b: '2', a: '1' }));
    expect(gauges.gauge('throughput')).toBe(gauge);
    expect(gauge.options.unit).toBe('{sample}/s');
  });

  it('refuses a name the OTel API would refuse, naming it', () => {
    const gauges = new LastValueGauges({ scope: { name: 'codex-telemetry' } });
    expect(() => gauges.gauge('1loss')).toThrow(ConfigError);
    expect(() => gauges.gauge('loss value')).toThrow(/"loss value"/);
  });
});
