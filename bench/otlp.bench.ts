/**
 * OTLP cost per protocol, beside a baseline measured in the same run:
 * - `log()` with OTLP on (exporting every 100 ms to a receiver in another process, so the exports
 *   run on the training thread during the loop), beside the same loop with OTLP off and the
 *   Prometheus endpoint on (unscraped), so both record the backend instruments on every log() and
 *   only the push differs; a row without any backend shows what the instruments themselves cost;
 * - CPU of one export of 10k series (100 gauges x 100 label values) per protocol, beside the
 *   http/json exporter's, through the official exporters to that receiver.
 * The receiver is test/fixtures/otlp/receiver.py in --discard mode (opentelemetry-proto + grpcio;
 * CODEX_OTLP_PYTHON, default the venv .ci/run makes); it answers at once and decodes nothing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ExportResult } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, MetricReader, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { OtlpProtocol } from '../src/config/train-config.js';
import { createOtlpExporter } from '../src/exporters/otlp/create-exporter.js';
import { otlpMetricsUrl } from '../src/exporters/otlp/env.js';
import { LastValueGauges } from '../src/instruments/last-value-gauges.js';
import { startTelemetry } from '../src/telemetry.js';
import type { Bench, BenchResult } from './types.js';

const PROTOCOLS: readonly OtlpProtocol[] = ['http/protobuf', 'grpc', 'http/json'];
const RECEIVER = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../test/fixtures/otlp/receiver.py',
);
const PYTHON = process.env.CODEX_OTLP_PYTHON ?? '/tmp/codex-otlp-venv/bin/python';

interface Receiver {
  http: string;
  grpc: string;
  stop(): Promise<void>;
}

async function startReceiver(tmpDir: string): Promise<Receiver> {
  const child: ChildProcess = spawn(
    PYTHON,
    [RECEIVER, '--discard', '--out', path.join(tmpDir, 'otlp-bench.jsonl')],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const ports = await new Promise<{ http: number; grpc: number }>((resolve, reject) => {
    let text = '';
    child.once('error', reject);
    child.once('exit', (code) =>
      reject(new Error(`${RECEIVER} exited (${code}); is ${PYTHON} the OTLP venv?`)),
    );
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      text += chunk;
      if (text.includes('\n'))
        resolve(JSON.parse(text.split('\n', 1)[0] as string) as { http: number; grpc: number });
    });
  });
  return {
    http: `http://127.0.0.1:${ports.http}`,
    grpc: `http://127.0.0.1:${ports.grpc}`,
    stop: () =>
      new Promise((resolve) => {
        child.removeAllListeners('exit');
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

function scalars(step: number): Record<string, number> {
  return { loss: 1 / (step + 1), lr: 3e-4, throughput: 1200.5 + (step % 17), grad_norm: 0.73, tokens: step };
}

/** µs per log() of 5 scalars over `steps` steps, NDJSON on, OTLP as given, Prometheus when asked. */
async function logCost(
  dir: string,
  steps: number,
  otlp: { protocol: OtlpProtocol; endpoint: string } | undefined,
  prometheus: boolean,
): Promise<number> {
  const env: NodeJS.ProcessEnv =
    otlp === undefined
      ? {}
      : { OTEL_EXPORTER_OTLP_ENDPOINT: otlp.endpoint, OTEL_METRIC_EXPORT_INTERVAL: '100' };
  const telemetry = await startTelemetry(
    {
      metricsOut: path.join(dir, `log-${otlp?.protocol.replace('/', '-') ?? 'off'}-${Date.now()}.ndjson`),
      systemMetricsInterval: 0,
      installExitHandlers: false,
      flushInterval: 0.2,
      otlp: otlp !== undefined,
      prometheus,
      prometheusPort: 0,
      otlpProtocol: otlp?.protocol ?? 'http/protobuf',
    },
    {
      env,
      warn: (message) => process.stderr.write(`bench otlp: ${message}\n`),
      info: () => undefined,
    },
  );
  const start = process.hrtime.bigint();
  for (let step = 0; step < steps; step++) {
    telemetry.log(scalars(step), { step });
    // A training loop yields between steps (GPU, data loader); the exports run in those turns.
    if (step % 1000 === 999) await new Promise((resolve) => setImmediate(resolve));
  }
  const micros = Number(process.hrtime.bigint() - start) / 1e3 / steps;
  await telemetry.shutdown();
  return micros;
}

class CollectingReader extends MetricReader {
  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** 10k series as the training gauges hold them: 100 names x 100 label values. */
async function tenThousandSeries(): Promise<ResourceMetrics> {
  const gauges = new LastValueGauges({ scope: { name: 'codex-telemetry', version: '0.1.0' } });
  for (let m = 0; m < 100; m++) {
    const gauge = gauges.gauge(`bench_metric_${m}`, { description: 'benchmark gauge' });
    for (let l = 0; l < 100; l++) gauge.series({ phase: 'train', rank: String(l) }).set(m * 1000 + l + 0.5);
  }
  const reader = new CollectingReader({ metricProducers: [gauges] });
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': 'codex-bench', run_id: 'bench' }),
    readers: [reader],
  });
  const { resourceMetrics, errors } = await reader.collect();
  await provider.shutdown();
  if (errors.length > 0) throw new Error(`collect failed: ${String(errors[0])}`);
  return resourceMetrics;
}

/** CPU milliseconds (user + system, this process) per export of `metrics`. */
async function exportCpu(protocol: OtlpProtocol, endpoint: string, metrics: ResourceMetrics, rounds: number) {
  const exporter = createOtlpExporter(
    protocol,
    otlpMetricsUrl({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint }, protocol),
    30_000,
  );
  const once = (): Promise<void> =>
    new Promise((resolve, reject) => {
      exporter.export(metrics, (result: ExportResult) =>
        result.code === 0 ? resolve() : reject(result.error ?? new Error(`${protocol} export failed`)),
      );
    });
  await once(); // connection set-up and lazy loading stay out of the figure
  const before = process.cpuUsage();
  for (let i = 0; i < rounds; i++) await once();
  const used = process.cpuUsage(before);
  await exporter.shutdown();
  return (used.user + used.system) / 1000 / rounds;
}

export const run: Bench = async ({ quick, tmpDir }) => {
  const receiver = await startReceiver(tmpDir);
  const results: BenchResult[] = [];
  try {
    const endpointOf = (protocol: OtlpProtocol): string =>
      protocol === 'grpc' ? receiver.grpc : receiver.http;
    const steps = quick ? 20_000 : 200_000;
    // Alternate off and on three times; medians, so machine drift hits every variant alike.
    const samples = new Map<string, number[]>();
    for (let round = 0; round < 3; round++) {
      for (const variant of ['no backend', 'off', ...PROTOCOLS] as const) {
        const otlp =
          variant === 'off' || variant === 'no backend'
            ? undefined
            : { protocol: variant, endpoint: endpointOf(variant) };
        const list = samples.get(variant) ?? [];
        list.push(await logCost(tmpDir, steps, otlp, variant !== 'no backend'));
        samples.set(variant, list);
      }
    }
    const median = (values: number[]): number =>
      [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
    const off = median(samples.get('off') ?? []);
    for (const protocol of PROTOCOLS) {
      const on = median(samples.get(protocol) ?? []);
      results.push({
        figure: `log() 5 scalars, OTLP ${protocol} on (export every 100 ms), median of 3`,
        unit: 'µs/log',
        ours: on,
        baseline: off,
        baselineName: 'same loop, OTLP off (Prometheus on, unscraped)',
        ratio: off / on,
        goal: '>= 0.9x OTLP off (unchanged)',
        met: off / on >= 0.9,
      });
    }

    results.push({
      figure: 'log() 5 scalars, no backend (no Prometheus, no OTLP: no instruments recorded), median of 3',
      unit: 'µs/log',
      ours: median(samples.get('no backend') ?? []),
      baseline: off,
      baselineName: 'OTLP off, Prometheus on',
      ratio: undefined,
      goal: 'informational',
      met: undefined,
    });

    const metrics = await tenThousandSeries();
    const rounds = quick ? 5 : 20;
    const json = await exportCpu('http/json', receiver.http, metrics, rounds);
    for (const protocol of ['http/protobuf', 'grpc'] as const) {
      const cpu = await exportCpu(protocol, endpointOf(protocol), metrics, rounds);
      results.push({
        figure: `export CPU per 10k series per export, OTLP ${protocol}`,
        unit: 'ms/export',
        ours: cpu,
        baseline: json,
        baselineName: 'OTLP http/json exporter, same series',
        ratio: json / cpu,
        goal: 'informational',
        met: undefined,
      });
    }
    results.push({
      figure: 'export CPU per 10k series per export, OTLP http/json',
      unit: 'ms/export',
      ours: json,
      baseline: undefined,
      baselineName: '(the baseline row)',
      ratio: undefined,
      goal: 'informational',
      met: undefined,
    });
  } finally {
    await receiver.stop();
  }
  return results;
};
