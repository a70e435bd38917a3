/**
 * Every OTLP protocol, end to end: `codex-telemetry demo` runs 1,000 steps and pushes to a receiver
 * built on the official opentelemetry-proto Python classes (test/fixtures/otlp/receiver.py), which
 * decodes each request with ExportMetricsServiceRequest. What arrives is checked against what the
 * same run wrote to NDJSON: every scalar's last value with its phase, the step and scalar counters,
 * the step-time histogram, the resource, and the headers.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnAsync, type SpawnResult } from '../../helpers/spawn-async.js';
import {
  makeTestCa,
  pointsOf,
  PythonOtlpReceiver,
  requireOtlpPython,
  type FlatPoint,
  type ReceivedRequest,
} from '../../helpers/python-otlp-receiver.js';

const CLI = fileURLToPath(new URL('../../../dist/src/cli/codex-telemetry.js', import.meta.url));
const STEPS = 1000;
const SECRET = 's3cret-token-42';

let dir: string;
let tls: { ca: string; cert: string; key: string };
const receivers: PythonOtlpReceiver[] = [];

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'codex-otlp-protocols-'));
  tls = makeTestCa(dir);
});
afterAll(async () => {
  for (const receiver of receivers.splice(0)) await receiver.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function receiver(options: Partial<Parameters<typeof PythonOtlpReceiver.start>[0]> = {}) {
  const started = await PythonOtlpReceiver.start({ dir, ...options });
  receivers.push(started);
  return started;
}

/** The environment without any OTEL_ variable of the machine running the tests. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('OTEL_') && !key.startsWith('CODEX_')) env[key] = value;
  }
  return { ...env, ...extra };
}

async function demo(runId: string, env: Record<string, string>, flags: string[] = [], steps = STEPS) {
  const out = path.join(dir, runId);
  const result = await spawnAsync(
    process.execPath,
    [
      CLI,
      'demo',
      '--run-id',
      runId,
      '--out',
      out,
      '--steps',
      String(steps),
      '--step-delay-ms',
      '0',
      '--checkpoint-every',
      '0',
      '--system-metrics-interval',
      '0',
      '--no-tensorboard',
      '--no-wandb',
      '--no-prometheus',
      ...flags,
    ],
    { env: cleanEnv(env), timeout: 120_000 },
  );
  return { result, out };
}

interface NdjsonRow {
  step: number;
  name: string;
  value: number;
  tags?: { phase?: string };
}

function rowsOf(file: string): NdjsonRow[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as NdjsonRow);
}

/** The points the run must have exported, from what it wrote to NDJSON. */
function expectedPoints(out: string): Map<string, number> {
  const rows = [
    ...rowsOf(path.join(out, '.codex/metrics.ndjson')),
    ...rowsOf(path.join(out, '.codex/eval_metrics.ndjson')),
  ];
  const expected = new Map<string, number>();
  const steps = new Map<string, Set<number>>();
  const scalars = new Map<string, number>();
  for (const row of rows) {
    const phase = row.tags?.phase ?? 'train';
    expected.set(`${row.name}{phase=${phase}}`, row.value);
    steps.set(phase, (steps.get(phase) ?? new Set()).add(row.step));
    scalars.set(phase, (scalars.get(phase) ?? 0) + 1);
  }
  for (const [phase, seen] of steps) expected.set(`codex.steps{phase=${phase}}`, seen.size);
  for (const [phase, count] of scalars) expected.set(`codex.scalars{phase=${phase}}`, count);
  expected.set('codex.step{}', STEPS - 1);
  // One duration per step after the first.
  expected.set('codex.step.duration{}', STEPS - 1);
  return expected;
}

function keyOf(point: FlatPoint): string {
  const attributes = Object.entries(point.attributes)
    .map(([key, value]) => `${key}=${String(value)}`)
    .sort()
    .join(',');
  return `${point.metric}{${attributes}}`;
}

function lastAccepted(requests: ReceivedRequest[]): ReceivedRequest {
  const accepted = requests.filter((request) => request.rejected === undefined);
  const last = accepted.at(-1);
  if (last === undefined) throw new Error(`no export accepted: ${JSON.stringify(requests).slice(0, 1000)}`);
  return last;
}

function expectEveryPoint(request: ReceivedRequest, out: string, runId: string): void {
  const points = pointsOf(request.request);
  const received = new Map(points.map((point) => [keyOf(point), point.value]));
  for (const [key, value] of expectedPoints(out)) {
    expect(received.has(key), `${key} arrived`).toBe(true);
    expect(received.get(key), key).toBeCloseTo(value, 12);
  }
  for (const point of points) {
    expect(point.resource).toMatchObject({
      'service.name': 'codex-telemetry',
      'service.instance.id': `${runId}-0`,
      'host.name': os.hostname(),
      run_id: runId,
      rank: 0,
      local_rank: 0,
      world_size: 1,
    });
  }
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(path.join(dir, entry.name)) : [path.join(dir, entry.name)],
  );
}

function expectQuiet(result: SpawnResult, out?: string): void {
  expect(result.status, result.stderr).toBe(0);
  // Header values are secrets: the run prints neither the token nor the header line...
  expect(result.stdout + result.stderr).not.toContain(SECRET);
  // ...and writes it to none of its files (NDJSON, manifests, anything else).
  for (const file of out === undefined ? [] : filesUnder(out)) {
    expect(readFileSync(file).includes(SECRET), file).toBe(false);
  }
}

const HEADERS = `authorization=Bearer%20${SECRET},x-codex-team=ml`;

describe('OTLP under every protocol, into official opentelemetry-proto receivers', () => {
  const variants: Array<{
    name: string;
    env: (r: PythonOtlpReceiver) => Record<string, string>;
    flags?: string[];
    tls?: boolean;
    path: string;
    contentType?: string;
    encoding?: string;
    transport: 'http' | 'grpc';
  }> = [
    {
      name: 'http/protobuf by default, /v1/metrics appended to OTEL_EXPORTER_OTLP_ENDPOINT',
      env: (r) => ({ OTEL_EXPORTER_OTLP_ENDPOINT: r.httpUrl }),
      path: '/v1/metrics',
      contentType: 'application/x-protobuf',
      encoding: '',
      transport: 'http',
    },
    {
      name: 'http/protobuf gzip from OTEL_EXPORTER_OTLP_PROTOCOL and _COMPRESSION',
      env: (r) => ({
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
        OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip',
        OTEL_EXPORTER_OTLP_ENDPOINT: `${r.httpUrl}/`,
      }),
      path: '/v1/metrics',
      contentType: 'application/x-protobuf',
      encoding: 'gzip',
      transport: 'http',
    },
    {
      name: 'http/json from OTEL_EXPORTER_OTLP_METRICS_PROTOCOL over OTEL_EXPORTER_OTLP_PROTOCOL, to the signal endpoint as given',
      env: (r) => ({
        OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
        OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/json',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9/unused',
        OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `${r.httpUrl}/custom/metrics`,
      }),
      path: '/custom/metrics',
      contentType: 'application/json',
      encoding: '',
      transport: 'http',
    },
    {
      name: 'http/json gzip from --otlp-protocol, which beats the environment',
      env: (r) => ({
        OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
        OTEL_EXPORTER_OTLP_METRICS_COMPRESSION: 'gzip',
        OTEL_EXPORTER_OTLP_ENDPOINT: r.httpUrl,
      }),
      flags: ['--otlp-protocol', 'http/json'],
      path: '/v1/metrics',
      contentType: 'application/json',
      encoding: 'gzip',
      transport: 'http',
    },
    {
      name: 'http/protobuf over TLS trusting the test CA from OTEL_EXPORTER_OTLP_CERTIFICATE',
      env: (r) => ({ OTEL_EXPORTER_OTLP_ENDPOINT: r.httpUrl, OTEL_EXPORTER_OTLP_CERTIFICATE: tls.ca }),
      tls: true,
      path: '/v1/metrics',
      contentType: 'application/x-protobuf',
      encoding: '',
      transport: 'http',
    },
    {
      name: 'grpc, nothing appended to the endpoint',
      env: (r) => ({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_ENDPOINT: r.grpcUrl }),
      path: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
      transport: 'grpc',
    },
    {
      name: 'grpc gzip with delta temporality',
      env: (r) => ({
        OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'grpc',
        OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip',
        OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'delta',
        OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: r.grpcUrl,
      }),
      path: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
      transport: 'grpc',
    },
    {
      name: 'grpc over TLS trusting the test CA from OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE',
      env: (r) => ({
        OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
        OTEL_EXPORTER_OTLP_ENDPOINT: r.grpcUrl,
        OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE: tls.ca,
      }),
      tls: true,
      path: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
      transport: 'grpc',
    },
  ];

  for (const [index, variant] of variants.entries()) {
    it(`${variant.name}: every point of a 1,000-step run arrives with its resource, attributes and headers`, async ({
      skip,
    }) => {
      requireOtlpPython(skip);
      const r = await receiver(variant.tls ? { tls: { cert: tls.cert, key: tls.key } } : {});
      const runId = `proto${index}`;
      const { result, out } = await demo(
        runId,
        { ...variant.env(r), OTEL_EXPORTER_OTLP_HEADERS: HEADERS },
        variant.flags,
      );
      expectQuiet(result, out);
      const requests = r.requests();
      expect(requests.filter((request) => request.rejected !== undefined)).toEqual([]);
      const last = lastAccepted(requests);
      expect(last.transport).toBe(variant.transport);
      expect(last.path).toBe(variant.path);
      if (variant.contentType !== undefined) expect(last.content_type).toBe(variant.contentType);
      if (variant.encoding !== undefined) expect(last.content_encoding).toBe(variant.encoding);
      expect(last.headers.authorization).toBe(`Bearer ${SECRET}`);
      expect(last.headers['x-codex-team']).toBe('ml');
      expectEveryPoint(last, out, runId);
      const steps = last.request?.resourceMetrics?.[0]?.scopeMetrics
        ?.flatMap((scope) => scope.metrics ?? [])
        .find((metric) => metric.name === 'codex.steps');
      expect(steps?.sum?.aggregationTemporality).toBe(
        variant.name.includes('delta')
          ? 'AGGREGATION_TEMPORALITY_DELTA'
          : 'AGGREGATION_TEMPORALITY_CUMULATIVE',
      );
    }, 120_000);
  }
});

describe('OTLP retries, as the exporter spec says', () => {
  for (const protocol of ['http/protobuf', 'http/json']) {
    it(`${protocol}: retries after a 503 with backoff and every point still arrives`, async ({ skip }) => {
      requireOtlpPython(skip);
      const r = await receiver({ fail: 2, failStatus: 503 });
      const runId = `retry503${protocol.replace('/', '')}`;
      const { result, out } = await demo(runId, {
        OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
        OTEL_EXPORTER_OTLP_ENDPOINT: r.httpUrl,
        OTEL_EXPORTER_OTLP_TIMEOUT: '20000',
      });
      expectQuiet(result);
      const requests = r.requests();
      expect(requests.map((request) => request.rejected ?? 'ok')).toEqual([503, 503, 'ok']);
      // Exponential backoff from 1 s with 20 % jitter, then x1.5.
      const [first, second, third] = requests.map((request) => request.time) as [number, number, number];
      expect(second - first).toBeGreaterThanOrEqual(0.75);
      expect(third - second).toBeGreaterThanOrEqual(1.15);
      expectEveryPoint(lastAccepted(requests), out, runId);
    }, 120_000);
  }

  for (const protocol of ['http/protobuf', 'http/json']) {
    it(`${protocol}: waits the Retry-After seconds of a 503 before it retries`, async ({ skip }) => {
      requireOtlpPython(skip);
      const r = await receiver({ fail: 1, failStatus: 503, retryAfterSeconds: 3 });
      const runId = `retryafter${protocol.replace('/', '')}`;
      const { result, out } = await demo(runId, {
        OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
        OTEL_EXPORTER_OTLP_ENDPOINT: r.httpUrl,
        OTEL_EXPORTER_OTLP_TIMEOUT: '20000',
      });
      expectQuiet(result);
      const requests = r.requests();
      expect(requests.map((request) => request.rejected ?? 'ok')).toEqual([503, 'ok']);
      const [first, second] = requests.map((request) => request.time) as [number, number];
      // Without the header the first retry comes after 0.8-1.2 s.
      expect(second - first).toBeGreaterThanOrEqual(2.9);
      expectEveryPoint(lastAccepted(requests), out, runId);
    }, 120_000);

    it('http/protobuf: does not retry a 400, which the spec calls permanent', async ({ skip }) => {
      requireOtlpPython(skip);
      const r = await receiver({ fail: 1, failStatus: 400 });
      const { result } = await demo('noretry400', { OTEL_EXPORTER_OTLP_ENDPOINT: r.httpUrl }, [], 20);
      expect(result.status).toBe(0);
      expect(r.requests().map((request) => request.rejected ?? 'ok')).toEqual([400]);
      expect(result.stderr).toContain('otlp');
    }, 120_000);
  }

  it('grpc: retries UNAVAILABLE with backoff and every point still arrives', async ({ skip }) => {
    requireOtlpPython(skip);
    const r = await receiver({ fail: 2 });
    const { result, out } = await demo('grpcunavailable', {
      OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
      OTEL_EXPORTER_OTLP_ENDPOINT: r.grpcUrl,
      OTEL_EXPORTER_OTLP_TIMEOUT: '20000',
    });
    expectQuiet(result);
    const requests = r.requests();
    expect(requests.map((request) => request.rejected ?? 'ok')).toEqual(['UNAVAILABLE', 'UNAVAILABLE', 'ok']);
    const [first, second, third] = requests.map((request) => request.time) as [number, number, number];
    expect(second - first).toBeGreaterThanOrEqual(0.75);
    expect(third - second).toBeGreaterThanOrEqual(1.15);
    expectEveryPoint(lastAccepted(requests), out, 'grpcunavailable');
  }, 120_000);

  it('grpc: waits the delay of the server’s google.rpc.RetryInfo before it retries', async ({ skip }) => {
    requireOtlpPython(skip);
    const r = await receiver({ fail: 1, retryAfterSeconds: 3 });
    const { result, out } = await demo('grpcretryinfo', {
      OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
      OTEL_EXPORTER_OTLP_ENDPOINT: r.grpcUrl,
      OTEL_EXPORTER_OTLP_TIMEOUT: '20000',
    });
    expectQuiet(result);
    const requests = r.requests();
    expect(requests.map((request) => request.rejected ?? 'ok')).toEqual(['UNAVAILABLE', 'ok']);
    const [first, second] = requests.map((request) => request.time) as [number, number];
    expect(second - first).toBeGreaterThanOrEqual(2.9);
    expectEveryPoint(lastAccepted(requests), out, 'grpcretryinfo');
  }, 120_000);

  it('grpc: gives up on UNAVAILABLE once a retry would start after the export timeout', async ({ skip }) => {
    requireOtlpPython(skip);
    const r = await receiver({ fail: 100 });
    const { result } = await demo(
      'grpcgiveup',
      {
        OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
        OTEL_EXPORTER_OTLP_ENDPOINT: r.grpcUrl,
        OTEL_EXPORTER_OTLP_TIMEOUT: '1500',
      },
      [],
      20,
    );
    expect(result.status, result.stderr).toBe(0);
    // 1,500 ms fits the first retry (0.8-1.2 s) and not the second (1.5 s later).
    expect(r.requests().map((request) => request.rejected)).toEqual(['UNAVAILABLE', 'UNAVAILABLE']);
    expect(result.stderr).toContain('otlp');
  }, 120_000);
});
