/**
 * The OTLP exporter spec's retry for gRPC, which the official gRPC exporter (0.223) leaves out: it
 * reports UNAVAILABLE and the other transient codes as a failed export at once, while its HTTP
 * sibling retries 429/502/503/504. This wrapper retries the same export on the codes the spec calls
 * retryable, on the HTTP exporter's schedule (1 s, then x1.5, ±20 % jitter, at most 5 s, 5 retries),
 * or after the server's google.rpc.RetryInfo delay, and only while the retry can start before the
 * export's deadline, so a collector that stays down costs one export's timeout, not more.
 */
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type {
  AggregationOption,
  AggregationTemporality,
  InstrumentType,
  PushMetricExporter,
  ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { retryDelayFromStatusDetails } from './grpc-retry-info.js';

/** CANCELLED, DEADLINE_EXCEEDED, ABORTED, OUT_OF_RANGE, UNAVAILABLE, DATA_LOSS (OTLP spec). */
const RETRYABLE_CODES = new Set([1, 4, 10, 11, 14, 15]);
/** RESOURCE_EXHAUSTED is retryable only when the server says when (RetryInfo). */
const RESOURCE_EXHAUSTED = 8;
const MAX_RETRIES = 5;
const INITIAL_BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 5000;
const BACKOFF_MULTIPLIER = 1.5;
const JITTER = 0.2;

export interface GrpcRetryOptions {
  inner: PushMetricExporter;
  /** The export's whole budget, retries included (the exporter's timeout). */
  timeoutMillis: number;
  random?: () => number;
}

export class RetryingGrpcExporter implements PushMetricExporter {
  private readonly inner: PushMetricExporter;
  private readonly timeoutMillis: number;
  private readonly random: () => number;
  private stopped = false;
  readonly selectAggregationTemporality?: (instrumentType: InstrumentType) => AggregationTemporality;
  readonly selectAggregation?: (instrumentType: InstrumentType) => AggregationOption;

  constructor(options: GrpcRetryOptions) {
    this.inner = options.inner;
    this.timeoutMillis = options.timeoutMillis;
    this.random = options.random ?? Math.random;
    this.selectAggregationTemporality = this.inner.selectAggregationTemporality?.bind(this.inner);
    this.selectAggregation = this.inner.selectAggregation?.bind(this.inner);
  }

  export(metrics: ResourceMetrics, resultCallback: (result: ExportResult) => void): void {
    const deadline = Date.now() + this.timeoutMillis;
    let retriesLeft = MAX_RETRIES;
    let backoff = INITIAL_BACKOFF_MS;
    const attempt = (): void => {
      this.inner.export(metrics, (result) => {
        if (result.code === ExportResultCode.SUCCESS || this.stopped || retriesLeft === 0) {
          resultCallback(result);
          return;
        }
        const jittered = Math.min(backoff * (1 + (this.random() * 2 - 1) * JITTER), MAX_BACKOFF_MS);
        const delay = retryDelay(result.error, jittered);
        if (delay === undefined || Date.now() + delay > deadline) {
          resultCallback(result);
          return;
        }
        retriesLeft--;
        backoff *= BACKOFF_MULTIPLIER;
        // Kept referenced: a final export at shutdown must get its retry; the deadline bounds it.
        setTimeout(attempt, delay);
      });
    };
    attempt();
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush();
  }

  shutdown(): Promise<void> {
    this.stopped = true;
    return this.inner.shutdown();
  }
}

/** The wait before retrying this failure, or undefined when the spec says not to retry it. */
function retryDelay(error: Error | undefined, backoff: number): number | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code !== 'number') return undefined;
  const serverDelay = retryInfoDelay(error);
  if (code === RESOURCE_EXHAUSTED) return serverDelay;
  if (!RETRYABLE_CODES.has(code)) return undefined;
  return serverDelay ?? backoff;
}

function retryInfoDelay(error: Error | undefined): number | undefined {
  const metadata = (error as { metadata?: { get?: (key: string) => unknown[] } } | undefined)?.metadata;
  for (const value of metadata?.get?.('grpc-status-details-bin') ?? []) {
    if (value instanceof Uint8Array) {
      const delay = retryDelayFromStatusDetails(value);
      if (delay !== undefined) return delay;
    }
  }
  return undefined;
}
