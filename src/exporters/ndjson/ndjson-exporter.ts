/**
 * NDJSON file exporter: a PushMetricExporter that writes the step rows of each collection as
 * schema v1 lines (docs/ndjson-schema.md) through a buffered AppendFile.
 */
import fs from 'node:fs';
import { diag } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { AggregationTemporality, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { Phase } from '../../instruments/step-row.js';
import type { SinkHealth } from '../../pipeline/sink-health.js';
import { AppendFile } from '../file/append-file.js';
import { RotationPolicy } from '../file/rotation-policy.js';
import type { FileSinkExporter } from '../file-sink.js';
import { decodeStepRows } from '../step-rows.js';
import { LineEncoder } from './encode-line.js';
import { gzipSegment, pruneSegments } from './segment-maintenance.js';
import { listSegments, segmentPath } from './segments.js';

export interface NdjsonExporterOptions {
  path: string;
  runId: string;
  /** Which rows this stream holds, e.g. ['train', 'system'] for metrics.ndjson, ['eval'] for eval. */
  phases: readonly Phase[];
  health: SinkHealth;
  /** Health name; defaults to `ndjson`. */
  sinkName?: string;
  flushIntervalMs?: number;
  extraTags?: Record<string, string | number>;
  /** Size/age rotation of the active file (off by default). */
  rotation?: RotationPolicy;
  /** Gzip closed segments. */
  gzipSegments?: boolean;
  /** Keep at most this many closed segments (0 = all). */
  keepSegments?: number;
  /** Informational lines (segment removal). Default: diag.info. */
  info?: (line: string) => void;
}

export class NdjsonExporter implements FileSinkExporter {
  readonly sinkName: string;
  private readonly file: AppendFile;
  private readonly encoder: LineEncoder;
  private readonly phases: ReadonlySet<Phase>;
  private shutdownPromise: Promise<void> | undefined;
  private linesWritten = 0;
  private readonly activePath: string;
  private readonly rotation: RotationPolicy;
  private readonly gzipSegments: boolean;
  private readonly keepSegments: number;
  private readonly info: (line: string) => void;
  private openedAtMs = Date.now();
  private nextSeq: number;
  private rotating: Promise<void> | undefined;
  private readonly maintenance = new Set<Promise<unknown>>();

  constructor(options: NdjsonExporterOptions) {
    this.sinkName = options.sinkName ?? 'ndjson';
    this.phases = new Set(options.phases);
    this.encoder = new LineEncoder({ runId: options.runId, extraTags: options.extraTags });
    this.activePath = options.path;
    this.rotation = options.rotation ?? new RotationPolicy();
    this.gzipSegments = options.gzipSegments ?? false;
    this.keepSegments = options.keepSegments ?? 0;
    this.info = options.info ?? ((line) => diag.info(line));
    // Continue numbering after segments an earlier run left, so names keep sorting in write order.
    this.nextSeq = (listSegments(options.path).at(-1)?.seq ?? 0) + 1;
    this.file = new AppendFile({
      path: options.path,
      sink: this.sinkName,
      health: options.health,
      flushIntervalMs: options.flushIntervalMs,
    });
  }

  get path(): string {
    return this.file.path;
  }

  /** Rows encoded so far (for tests and reports). */
  get rowsWritten(): number {
    return this.linesWritten;
  }

  export(metrics: ResourceMetrics, resultCallback: (result: ExportResult) => void): void {
    if (this.shutdownPromise || !this.file.up) {
      resultCallback({
        code: ExportResultCode.FAILED,
        error: new Error(`${this.sinkName} sink is not writable`),
      });
      return;
    }
    let chunk = '';
    for (const row of decodeStepRows(metrics)) {
      if (!this.phases.has(row.phase)) continue;
      chunk += this.encoder.encodeRow(row);
      this.linesWritten++;
    }
    if (chunk.length > 0) this.file.append(chunk);
    if (
      this.rotation.enabled &&
      !this.rotating &&
      this.rotation.shouldRotate(this.file.size, this.openedAtMs, Date.now())
    ) {
      void this.rotateNow();
    }
    resultCallback({ code: ExportResultCode.SUCCESS });
  }

  /**
   * Closes the active file as the next numbered segment and starts a new one under the same name.
   * Whole lines only: the old file is flushed before the rename. Resolves to the closed segment's
   * path (after gzip, if enabled), or undefined when there was nothing to close.
   */
  rotateNow(): Promise<string | undefined> {
    const run = (this.rotating ?? Promise.resolve()).then(() => this.rotate());
    const tracked = run.then(() => undefined);
    this.rotating = tracked;
    void tracked.finally(() => {
      if (this.rotating === tracked) this.rotating = undefined;
    });
    return run;
  }

  /** Closed segments of this stream, oldest first (for archiving and readers). */
  segments(): string[] {
    return listSegments(this.activePath).map((segment) => segment.path);
  }

  /** Resolves when every exported line has been handed to the kernel. */
  async forceFlush(): Promise<void> {
    await this.rotating;
    await this.file.flush();
  }

  shutdown(): Promise<void> {
    this.shutdownPromise ??= (async () => {
      await this.rotating;
      await this.file.close();
      await Promise.allSettled([...this.maintenance]);
    })();
    return this.shutdownPromise;
  }

  private async rotate(): Promise<string | undefined> {
    if (!this.file.up || this.file.size === 0) return undefined;
    const target = segmentPath(this.activePath, this.nextSeq++);
    await this.file.reopen(this.activePath, { beforeOpen: () => fs.renameSync(this.activePath, target) });
    this.openedAtMs = Date.now();
    if (!this.file.up) return undefined;
    let closed = target;
    if (this.gzipSegments) {
      try {
        closed = await this.track(gzipSegment(target));
      } catch (error) {
        diag.warn(`codex-telemetry: cannot gzip ${target}, keeping it plain: ${String(error)}`);
      }
    }
    await this.track(pruneSegments(this.activePath, this.keepSegments, this.info));
    return closed;
  }

  private track<T>(promise: Promise<T>): Promise<T> {
    this.maintenance.add(promise);
    const forget = (): void => {
      this.maintenance.delete(promise);
    };
    // Bookkeeping only: the caller awaits `promise` and handles its rejection.
    promise.then(forget, forget);
    return promise;
  }

  flushSync(): void {
    this.file.flushSync();
  }

  selectAggregationTemporality(): AggregationTemporality {
    return AggregationTemporality.DELTA;
  }
}
