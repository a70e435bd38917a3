/**
 * A minimal OTLP/HTTP metrics receiver on loopback for tests: it records each POST's path, headers
 * and decoded JSON body (the http exporter sends `application/json`), and answers with the status
 * the test chooses.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedExport {
  path: string;
  headers: IncomingHttpHeaders;
  body: OtlpMetricsRequest;
}

export interface OtlpAnyValue {
  stringValue?: string;
  intValue?: number | string;
  doubleValue?: number;
  boolValue?: boolean;
}
export interface OtlpKeyValue {
  key: string;
  value: OtlpAnyValue;
}
export interface OtlpNumberPoint {
  attributes?: OtlpKeyValue[];
  asDouble?: number;
  asInt?: number | string;
}
export interface OtlpHistogramPoint {
  attributes?: OtlpKeyValue[];
  count: number | string;
  sum?: number;
  bucketCounts: Array<number | string>;
  explicitBounds: number[];
}
export interface OtlpMetric {
  name: string;
  unit?: string;
  description?: string;
  gauge?: { dataPoints: OtlpNumberPoint[] };
  sum?: { dataPoints: OtlpNumberPoint[]; aggregationTemporality: number; isMonotonic?: boolean };
  histogram?: { dataPoints: OtlpHistogramPoint[]; aggregationTemporality: number };
}
export interface OtlpMetricsRequest {
  resourceMetrics: Array<{
    resource: { attributes: OtlpKeyValue[] };
    scopeMetrics: Array<{ scope: { name: string; version?: string }; metrics: OtlpMetric[] }>;
  }>;
}

export class OtlpReceiver {
  readonly received: ReceivedExport[] = [];
  status = 200;
  private readonly server: Server;
  private waiters: Array<() => void> = [];

  private constructor(server: Server) {
    this.server = server;
  }

  static async start(): Promise<OtlpReceiver> {
    const receiver: OtlpReceiver = new OtlpReceiver(
      createServer((request, response) => {
        const chunks: Buffer[] = [];
        request.on('data', (chunk: Buffer) => chunks.push(chunk));
        request.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if (receiver.status === 200) {
            receiver.received.push({
              path: request.url ?? '',
              headers: request.headers,
              body: JSON.parse(text) as OtlpMetricsRequest,
            });
          }
          response.statusCode = receiver.status;
          response.setHeader('content-type', 'application/json');
          response.end('{}');
          const waiters = receiver.waiters;
          receiver.waiters = [];
          for (const wake of waiters) wake();
        });
      }),
    );
    await new Promise<void>((resolve) => receiver.server.listen({ host: '127.0.0.1', port: 0 }, resolve));
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Resolves once `count` exports have been accepted, or rejects after `timeoutMs`. */
  async waitFor(count: number, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.received.length < count) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`OTLP receiver got ${this.received.length} exports, expected ${count}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** Flattens OTLP attributes to plain values (intValue arrives as a string in OTLP/JSON). */
export function attributesOf(list: OtlpKeyValue[] | undefined): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const { key, value } of list ?? []) {
    out[key] = value.stringValue ?? value.doubleValue ?? value.boolValue ?? Number(value.intValue);
  }
  return out;
}

export function metricsByName(request: OtlpMetricsRequest): Map<string, OtlpMetric> {
  const byName = new Map<string, OtlpMetric>();
  for (const resource of request.resourceMetrics) {
    for (const scope of resource.scopeMetrics)
      for (const metric of scope.metrics) byName.set(metric.name, metric);
  }
  return byName;
}
