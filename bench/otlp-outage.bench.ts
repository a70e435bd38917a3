/**
 * A collector that goes down for 60 s (5 s with --quick) and comes back, while a training loop
 * logs 5 scalars every millisecond with OTLP http/protobuf exporting every second:
 * - p99 of log() during the outage, beside p99 before it (goal <= 50 µs);
 * - peak RSS during the outage, beside RSS before it (bounded: goal < +50 MB);
 * - seconds from the collector's return to its first accepted export (goal <= 2 export intervals);
 * - codex_sink_up{sink="otlp"} read from /metrics during the outage (0) and after the return (1).
 * The collector is test/fixtures/otlp/receiver.py (--discard), stopped and restarted on one port.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTelemetry } from '../src/telemetry.js';
import type { Bench, BenchResult } from './types.js';

const RECEIVER = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../test/fixtures/otlp/receiver.py',
);
const PYTHON = process.env.CODEX_OTLP_PYTHON ?? '/tmp/codex-otlp-venv/bin/python';
const INTERVAL_MS = 1000;

interface Collector {
  port: number;
  out: string;
  stop(): Promise<void>;
}

async function startCollector(out: string, port = 0): Promise<Collector> {
  const child: ChildProcess = spawn(
    PYTHON,
    [RECEIVER, '--discard', '--out', out, '--http-port', String(port)],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  const ports = await new Promise<{ http: number }>((resolve, reject) => {
    let text = '';
    child.once('error', reject);
    child.once('exit', (code) =>
      reject(new Error(`${RECEIVER} exited (${code}); is ${PYTHON} the OTLP venv?`)),
    );
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      text += chunk;
      if (text.includes('\n')) resolve(JSON.parse(text.split('\n', 1)[0] as string) as { http: number });
    });
  });
  return {
    port: ports.http,
    out,
    stop: () =>
      new Promise((resolve) => {
        child.removeAllListeners('exit');
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

function acceptedTimes(out: string): number[] {
  return fs
    .readFileSync(out, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => (JSON.parse(line) as { time: number }).time * 1000);
}

async function sinkUp(metricsUrl: string): Promise<number> {
  const text = await (await fetch(metricsUrl)).text();
  const line = text.split('\n').find((l) => l.startsWith('codex_sink_up{') && l.includes('sink="otlp"'));
  if (line === undefined) throw new Error('no codex_sink_up{sink="otlp"} on /metrics');
  return Number(line.trim().split(' ').at(-1));
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] as number;
}

export const run: Bench = async ({ quick, tmpDir }) => {
  const outageMs = quick ? 5_000 : 60_000;
  const first = await startCollector(path.join(tmpDir, 'before.jsonl'));
  const port = first.port;
  let collector: Collector | undefined = first;
  let metricsUrl = '';
  const telemetry = await startTelemetry(
    {
      metricsOut: path.join(tmpDir, 'outage.ndjson'),
      systemMetricsInterval: 0,
      installExitHandlers: false,
      prometheus: true,
      prometheusPort: 0,
      otlp: true,
      otlpProtocol: 'http/protobuf',
    },
    {
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
        OTEL_METRIC_EXPORT_INTERVAL: String(INTERVAL_MS),
      },
      warn: () => undefined,
      info: (line) => {
        if (line.startsWith('metrics: ')) metricsUrl = line.slice('metrics: '.length);
      },
    },
  );
  const before: number[] = [];
  const during: number[] = [];
  let step = 0;
  /** Logs one step per millisecond for `ms`, timing every log(). */
  const train = async (ms: number, into: number[], onTick?: () => void): Promise<void> => {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      const start = process.hrtime.bigint();
      telemetry.log(
        { loss: 1 / (step + 1), lr: 3e-4, throughput: 1200 + (step % 7), grad_norm: 0.7, tokens: step },
        { step },
      );
      into.push(Number(process.hrtime.bigint() - start) / 1e3);
      step++;
      onTick?.();
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  };
  let upDuring = Number.NaN;
  let upAfter = Number.NaN;
  let rssBefore = 0;
  let rssPeak = 0;
  let recoverySeconds = Number.NaN;
  try {
    await train(3_000, before);
    rssBefore = process.memoryUsage().rss;
    await collector.stop();
    collector = undefined;
    let ticks = 0;
    await train(outageMs, during, () => {
      if (++ticks % 200 === 0) rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
    });
    upDuring = await sinkUp(metricsUrl);
    const back = Date.now();
    collector = await startCollector(path.join(tmpDir, 'after.jsonl'), port);
    await train(3 * INTERVAL_MS, []);
    const firstAccepted = acceptedTimes(collector.out).find((time) => time >= back);
    recoverySeconds = firstAccepted === undefined ? Number.POSITIVE_INFINITY : (firstAccepted - back) / 1000;
    upAfter = await sinkUp(metricsUrl);
  } finally {
    await telemetry.shutdown();
    await collector?.stop();
  }
  const p99Before = percentile(before, 99);
  const p99During = percentile(during, 99);
  const rows: BenchResult[] = [
    {
      figure: `log() p99 while the OTLP collector is down ${outageMs / 1000} s (http/protobuf, export every 1 s)`,
      unit: 'µs',
      ours: p99During,
      baseline: p99Before,
      baselineName: 'p99 before the outage, same run',
      ratio: p99Before / p99During,
      goal: '<= 50 µs',
      met: p99During <= 50,
    },
    {
      figure: 'peak RSS during the outage',
      unit: 'MB',
      ours: rssPeak / 1e6,
      baseline: rssBefore / 1e6,
      baselineName: 'RSS before the outage',
      ratio: rssBefore / rssPeak,
      goal: '< +50 MB (bounded)',
      met: rssPeak - rssBefore < 50e6,
    },
    {
      figure: 'collector back to its first accepted export',
      unit: 's',
      ours: recoverySeconds,
      baseline: undefined,
      baselineName: 'export interval 1 s',
      ratio: undefined,
      goal: '<= 2 s (2 intervals)',
      met: recoverySeconds <= 2,
    },
    {
      figure: 'codex_sink_up{sink="otlp"} on /metrics: during the outage / after',
      unit: '',
      ours: upDuring,
      baseline: upAfter,
      baselineName: 'value after the return',
      ratio: undefined,
      goal: '0 during, 1 after',
      met: upDuring === 0 && upAfter === 1,
    },
  ];
  return rows;
};
