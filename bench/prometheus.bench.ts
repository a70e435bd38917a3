/**
 * `/metrics` cost: median scrape latency over loopback HTTP and body bytes for 1k and 10k series,
 * our endpoint (exporter-prometheus behind createPrometheusReader, scope labels off) beside
 * prom-client serving the same series from a plain node:http server, in the same run. Ours is
 * measured two ways: series held in LastValueGauges (a MetricProducer) and series as SDK observable
 * gauges, so the table shows what the SDK's per-scrape aggregation costs. Scrapes rotate between
 * the servers so drift in machine load hits all alike.
 */
import { createServer, request, Agent, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MeterProvider, type MetricReader } from '@opentelemetry/sdk-metrics';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { Gauge, Registry } from 'prom-client';
import { createPrometheusReader } from '../src/exporters/prometheus/create-reader.js';
import { LastValueGauges } from '../src/instruments/last-value-gauges.js';
import { SinkHealth } from '../src/health.js';
import type { Bench, BenchResult } from './types.js';

/** Labels per instrument: under exporter-prometheus' 2000-series cardinality cap per instrument. */
const LABELS_PER_METRIC = 100;

interface Endpoint {
  url: string;
  close(): Promise<void>;
}

function value(metric: number, label: number): number {
  return metric * 1000 + label + 0.5;
}

type SeriesSource = 'producer' | 'observable';

async function ours(series: number, source: SeriesSource): Promise<Endpoint> {
  const health = new SinkHealth(() => undefined);
  const labels = Array.from({ length: LABELS_PER_METRIC }, (_, i) => ({ rank: String(i) }));
  const metricCount = series / LABELS_PER_METRIC;
  const gauges = new LastValueGauges({ scope: { name: 'codex-telemetry', version: '0.1.0' } });
  if (source === 'producer') {
    for (let m = 0; m < metricCount; m++) {
      const gauge = gauges.gauge(`bench_metric_${m}`, { description: 'benchmark gauge' });
      for (let l = 0; l < labels.length; l++) gauge.series(labels[l]).set(value(m, l));
    }
  }
  const { reader, url } = await createPrometheusReader({
    port: 0,
    health,
    metricProducers: source === 'producer' ? [gauges] : [],
  });
  if (reader === undefined || url === undefined) {
    throw new Error(`prometheus endpoint did not open: ${health.reason('prometheus')}`);
  }
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': 'codex-bench', 'codex.run_id': 'bench' }),
    readers: [reader as MetricReader],
  });
  if (source === 'observable') {
    const meter = provider.getMeter('codex-telemetry', '0.1.0');
    for (let m = 0; m < metricCount; m++) {
      meter
        .createObservableGauge(`bench_metric_${m}`, { description: 'benchmark gauge' })
        .addCallback((result) => {
          for (let l = 0; l < labels.length; l++) result.observe(value(m, l), labels[l]);
        });
    }
  }
  return { url, close: () => provider.shutdown() };
}

async function promClient(series: number): Promise<Endpoint> {
  const registry = new Registry();
  for (let m = 0; m < series / LABELS_PER_METRIC; m++) {
    const gauge = new Gauge({
      name: `bench_metric_${m}`,
      help: 'benchmark gauge',
      labelNames: ['rank'],
      registers: [registry],
    });
    for (let l = 0; l < LABELS_PER_METRIC; l++) gauge.set({ rank: String(l) }, value(m, l));
  }
  const server: Server = createServer((_request, response) => {
    registry.metrics().then(
      (body) => {
        response.setHeader('content-type', registry.contentType);
        response.end(body);
      },
      (error: unknown) => {
        response.statusCode = 500;
        response.end(String(error));
      },
    );
  });
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/metrics`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** One GET over a keep-alive agent, as Prometheus scrapes: milliseconds and body bytes. */
function scrape(url: string, agent: Agent): Promise<{ ms: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const req = request(url, { agent }, (response) => {
      let bytes = 0;
      response.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
      });
      response.on('end', () => {
        if (response.statusCode !== 200) reject(new Error(`${url} answered ${response.statusCode}`));
        else resolve({ ms: Number(process.hrtime.bigint() - start) / 1e6, bytes });
      });
      response.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

interface Samples {
  ms: number[];
  bytes: number;
}

async function compare(series: number, scrapes: number): Promise<BenchResult[]> {
  const endpoints = [
    await ours(series, 'producer'),
    await ours(series, 'observable'),
    await promClient(series),
  ];
  const samples: Samples[] = endpoints.map(() => ({ ms: [], bytes: 0 }));
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const warmup = Math.max(5, Math.floor(scrapes / 10));
    for (let i = 0; i < warmup; i++) for (const endpoint of endpoints) await scrape(endpoint.url, agent);
    for (let i = 0; i < scrapes; i++) {
      // Rotate the order so no server always runs right after another's garbage.
      for (let k = 0; k < endpoints.length; k++) {
        const index = (i + k) % endpoints.length;
        const result = await scrape((endpoints[index] as Endpoint).url, agent);
        const sample = samples[index] as Samples;
        sample.ms.push(result.ms);
        sample.bytes = result.bytes;
      }
    }
  } finally {
    agent.destroy();
    for (const endpoint of endpoints) await endpoint.close();
  }
  const [producer, observable, baseline] = samples as [Samples, Samples, Samples];
  const label = `${series / 1000}k`;
  const baseMs = median(baseline.ms);
  /** `judged`: the path the exporters use; the other row shows what that choice avoids, no verdict. */
  const latency = (name: string, ours: Samples, judged: boolean): BenchResult => {
    const ms = median(ours.ms);
    return {
      figure: `/metrics median scrape, ${label} series, ${name} (${scrapes} scrapes, loopback)`,
      unit: 'ms',
      ours: ms,
      baseline: baseMs,
      baselineName: 'prom-client Registry.metrics() over node:http',
      ratio: baseMs / ms,
      goal: judged ? '>= 1x prom-client (no slower)' : 'informational (the path not taken)',
      met: judged ? baseMs / ms >= 1 : undefined,
    };
  };
  return [
    latency('LastValueGauges producer', producer, true),
    latency('SDK observable gauges, not used by the exporters', observable, false),
    {
      figure: `/metrics body size, ${label} series (scope labels off, with target_info)`,
      unit: 'bytes',
      ours: producer.bytes,
      baseline: baseline.bytes,
      baselineName: 'prom-client, same series',
      ratio: baseline.bytes / producer.bytes,
      // Same HELP/TYPE lines as prom-client plus target_info; more would mean labels leaked onto
      // every series (scope labels alone add ~50 bytes per series).
      goal: '<= 1.25x prom-client bytes',
      met: producer.bytes <= 1.25 * baseline.bytes,
    },
  ];
}

export const run: Bench = async ({ quick }) => {
  const results = await compare(1000, quick ? 50 : 200);
  if (!quick) results.push(...(await compare(10_000, 50)));
  return results;
};
