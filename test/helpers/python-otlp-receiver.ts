/**
 * Starts test/fixtures/otlp/receiver.py: OTLP/HTTP (protobuf and JSON, plain and gzip) and
 * OTLP/gRPC (plain or TLS) decoded by the official opentelemetry-proto Python classes. Python comes
 * from CODEX_OTLP_PYTHON (the venv `.ci/run` makes: opentelemetry-proto, grpcio, protobuf). The
 * receiver is stopped by the PID we started; what it received is read back from its JSON-lines file.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { requirePrerequisite } from './require-prerequisite.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const RECEIVER_SCRIPT = path.resolve(HERE, '../fixtures/otlp/receiver.py');
export const OTLP_PYTHON = process.env.CODEX_OTLP_PYTHON ?? '/tmp/codex-otlp-venv/bin/python';

/** Fails in CI, skips elsewhere, when the Python with grpcio and opentelemetry-proto is missing. */
export function requireOtlpPython(skip: (note: string) => never): void {
  const probe = spawnSync(OTLP_PYTHON, [
    '-c',
    'import grpc; from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2_grpc',
  ]);
  requirePrerequisite(
    probe.status === 0,
    `a Python with grpcio and opentelemetry-proto (CODEX_OTLP_PYTHON, now ${OTLP_PYTHON})`,
    skip,
  );
}

export interface AnyValue {
  stringValue?: string;
  intValue?: string;
  doubleValue?: number;
  boolValue?: boolean;
}
export interface KeyValue {
  key: string;
  value: AnyValue;
}
export interface NumberPoint {
  attributes?: KeyValue[];
  asDouble?: number;
  asInt?: string;
  count?: string;
  sum?: number;
}
export interface ProtoMetric {
  name: string;
  unit?: string;
  gauge?: { dataPoints: NumberPoint[] };
  sum?: { dataPoints: NumberPoint[]; aggregationTemporality?: string; isMonotonic?: boolean };
  histogram?: { dataPoints: NumberPoint[]; aggregationTemporality?: string };
}
export interface MetricsRequest {
  resourceMetrics?: Array<{
    resource?: { attributes?: KeyValue[] };
    scopeMetrics?: Array<{ scope?: { name?: string }; metrics?: ProtoMetric[] }>;
  }>;
}
export interface ReceivedRequest {
  transport: 'http' | 'grpc';
  path: string;
  content_type?: string;
  content_encoding?: string;
  headers: Record<string, string>;
  time: number;
  /** The refusal the receiver answered with (503, 400, "UNAVAILABLE"), when it refused. */
  rejected?: number | string;
  error?: string;
  request?: MetricsRequest;
}

export interface ReceiverOptions {
  dir: string;
  host?: string;
  tls?: { cert: string; key: string };
  /** Refuse the first N requests. */
  fail?: number;
  failStatus?: number;
  retryAfterSeconds?: number;
  /** Fixed ports (the multi-node test); default any free port. */
  httpPort?: number;
  grpcPort?: number;
}

export class PythonOtlpReceiver {
  private constructor(
    private readonly child: ChildProcess,
    private readonly out: string,
    readonly host: string,
    readonly httpPort: number,
    readonly grpcPort: number,
    private readonly tls: boolean,
  ) {}

  static async start(options: ReceiverOptions): Promise<PythonOtlpReceiver> {
    const host = options.host ?? '127.0.0.1';
    const out = path.join(
      options.dir,
      `otlp-received-${Date.now()}-${Math.random().toString(36).slice(2)}.jsonl`,
    );
    writeFileSync(out, '');
    const args = [RECEIVER_SCRIPT, '--out', out, '--host', host];
    if (options.httpPort !== undefined) args.push('--http-port', String(options.httpPort));
    if (options.grpcPort !== undefined) args.push('--grpc-port', String(options.grpcPort));
    if (options.tls) args.push('--tls-cert', options.tls.cert, '--tls-key', options.tls.key);
    if (options.fail !== undefined) args.push('--fail', String(options.fail));
    if (options.failStatus !== undefined) args.push('--fail-status', String(options.failStatus));
    if (options.retryAfterSeconds !== undefined)
      args.push('--retry-after', String(options.retryAfterSeconds));
    const child = spawn(OTLP_PYTHON, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const ports = await new Promise<{ http: number; grpc: number }>((resolve, reject) => {
      let stdout = '';
      const timer = setTimeout(
        () => reject(new Error(`receiver.py did not start in 20 s: ${stderr}`)),
        20_000,
      );
      child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
        stdout += chunk;
        const line = stdout.split('\n', 1)[0];
        if (stdout.includes('\n') && line !== undefined) {
          clearTimeout(timer);
          resolve(JSON.parse(line) as { http: number; grpc: number });
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`receiver.py exited (${code}) before listening: ${stderr}`));
      });
    });
    return new PythonOtlpReceiver(child, out, host, ports.http, ports.grpc, options.tls !== undefined);
  }

  /** The generic endpoint (`OTEL_EXPORTER_OTLP_ENDPOINT`) for HTTP: the exporter appends /v1/metrics. */
  get httpUrl(): string {
    return `${this.tls ? 'https' : 'http'}://${this.host}:${this.httpPort}`;
  }

  get grpcUrl(): string {
    return `${this.tls ? 'https' : 'http'}://${this.host}:${this.grpcPort}`;
  }

  requests(): ReceivedRequest[] {
    return readFileSync(this.out, 'utf8')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as ReceivedRequest);
  }

  accepted(): ReceivedRequest[] {
    return this.requests().filter((request) => request.rejected === undefined);
  }

  async waitFor(predicate: (requests: ReceivedRequest[]) => boolean, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.requests())) {
      if (Date.now() > deadline) {
        throw new Error(
          `the receiver did not get what the test waited for: ${JSON.stringify(this.requests()).slice(0, 2000)}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    await exited;
  }
}

/** A CA and a server certificate for 127.0.0.1/localhost that it signed, made by openssl. */
export function makeTestCa(dir: string): { ca: string; cert: string; key: string } {
  const file = (name: string): string => path.join(dir, name);
  const run = (args: string[]): void => {
    execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  };
  run([
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=codex test CA',
    '-keyout',
    file('ca.key'),
    '-out',
    file('ca.pem'),
  ]);
  run([
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    '/CN=127.0.0.1',
    '-keyout',
    file('server.key'),
    '-out',
    file('server.csr'),
  ]);
  writeFileSync(file('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  run([
    'x509',
    '-req',
    '-in',
    file('server.csr'),
    '-CA',
    file('ca.pem'),
    '-CAkey',
    file('ca.key'),
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    file('server.ext'),
    '-out',
    file('server.pem'),
  ]);
  return { ca: file('ca.pem'), cert: file('server.pem'), key: file('server.key') };
}

/** `{key: value}` of OTLP attributes; ints as numbers (the JSON mapping gives int64 as strings). */
export function attributeMap(list: KeyValue[] | undefined): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const { key, value } of list ?? []) {
    out[key] =
      value.stringValue ?? value.doubleValue ?? value.boolValue ?? Number(value.intValue ?? Number.NaN);
  }
  return out;
}

export interface FlatPoint {
  metric: string;
  attributes: Record<string, string | number | boolean>;
  /** Gauge or sum value; a histogram's count. */
  value: number;
  resource: Record<string, string | number | boolean>;
}

/** Every data point of one request, flattened. */
export function pointsOf(request: MetricsRequest | undefined): FlatPoint[] {
  const points: FlatPoint[] = [];
  for (const resourceMetrics of request?.resourceMetrics ?? []) {
    const resource = attributeMap(resourceMetrics.resource?.attributes);
    for (const scope of resourceMetrics.scopeMetrics ?? []) {
      for (const metric of scope.metrics ?? []) {
        const data = metric.gauge ?? metric.sum ?? metric.histogram;
        for (const point of data?.dataPoints ?? []) {
          const value = metric.histogram
            ? Number(point.count ?? 0)
            : (point.asDouble ?? Number(point.asInt ?? Number.NaN));
          points.push({ metric: metric.name, attributes: attributeMap(point.attributes), value, resource });
        }
      }
    }
  }
  return points;
}
