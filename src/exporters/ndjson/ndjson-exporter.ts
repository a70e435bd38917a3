/**
 * NDJSON file sink: writes the rows of its streams as schema v1 lines (docs/ndjson-schema.md)
 * through a buffered AppendFile. Each file holds only the streams it was opened for, so two
 * evaluation streams never see each other's rows.
 */
import fs from 'node:fs';
import { errnoCode, errorText } from '../../errors.js';
import { SinkIndex } from '../../run-index/sink-index.js';
import type { Row } from '../../pipeline/row.js';
import type { RowSink } from '../../pipeline/row-sink.js';
import type { SinkHealth, WarnFn } from '../../health.js';
import { AppendFile } from '../file/append-file.js';
import { claimFile, type FileClaim } from '../file/file-claim.js';
import { RotationPolicy } from '../file/rotation-policy.js';
import { RotationRunner } from '../file/rotation-runner.js';
import { LineEncoder, type LineEnds } from '../../ndjson/line/encode-line.js';
import { gzipSegment, pruneSegments } from './segment-maintenance.js';
import { listSegments, segmentPath } from '../../ndjson/segments.js';

/**
 * The most bucket records the run index holds between two flushes. A loop that never yields never
 * reaches a flush, so past this the stream's bytes are written at once (synchronously, as rows in
 * flight are past their high-water mark) and the index block that covers them follows; a stuck
 * sink is never written synchronously, and holds little here since it drops what it cannot queue.
 */
const MAX_HELD_INDEX_BYTES = 4 << 20;

export interface NdjsonExporterOptions {
  path: string;
  runId: string;
  /** Which streams this file holds, e.g. ['train', 'system'] for metrics.ndjson. */
  streams: readonly string[];
  health: SinkHealth;
  /** Health name; defaults to `ndjson`. */
  sinkName?: string;
  /** Where a failed gzip or segment cleanup is reported (default: the health warning channel). */
  warn?: WarnFn;
  extraTags?: Record<string, string | number>;
  /** Size/age rotation of the active file (off by default). */
  rotation?: RotationPolicy;
  /** Gzip closed segments. */
  gzipSegments?: boolean;
  /** Keep at most this many closed segments (0 = all). */
  keepSegments?: number;
  /** Informational lines (segment removal). Default: none. */
  info?: (line: string) => void;
  /** The most a stuck file holds in memory; whole lines past it are dropped and counted. */
  maxQueuedBytes?: number;
  /**
   * Keep a run index beside the stream (src/run-index; default true). A file that already holds
   * lines when the sink opens it is left to readers to index until it rotates; a FIFO or other
   * non-regular file is never indexed.
   */
  index?: boolean;
  /** @internal Held index bytes that make a write flush (default MAX_HELD_INDEX_BYTES; tests lower it). */
  maxHeldIndexBytes?: number;
}

export class NdjsonExporter implements RowSink {
  readonly name: string;
  private readonly file: AppendFile;
  private readonly encoder: LineEncoder;
  private readonly streams: ReadonlySet<string>;
  private readonly warn: WarnFn;
  private shutdownPromise: Promise<void> | undefined;
  private linesWritten = 0;
  private readonly activePath: string;
  private readonly claim: FileClaim;
  private readonly rotation: RotationRunner<string>;
  private readonly gzipSegments: boolean;
  private readonly keepSegments: number;
  private readonly info: (line: string) => void;
  private nextSeq: number;
  private readonly maintenance = new Set<Promise<unknown>>();
  private index: SinkIndex | undefined;
  private readonly maxHeldIndexBytes: number;
  /** Rows of the chunk being written and where each of their lines ends in it (reused between writes). */
  private readonly indexRows: Row[] = [];
  private readonly indexLines: LineEnds = { at: [], count: 0 };

  constructor(options: NdjsonExporterOptions) {
    this.name = options.sinkName ?? 'ndjson';
    this.streams = new Set(options.streams);
    this.warn = options.warn ?? ((message) => options.health.warn(message));
    this.encoder = new LineEncoder({ runId: options.runId, extraTags: options.extraTags });
    // Another live run writing this path gets it; this run then writes beside it (see file-claim).
    this.claim = claimFile(options.path, options.runId);
    if (this.claim.heldBy !== undefined) {
      this.warn(
        `codex-telemetry: ${options.path} is being written by run ${this.claim.heldBy.runId} (pid ${this.claim.heldBy.pid}); ` +
          `run ${options.runId} writes ${this.claim.path} instead`,
      );
    }
    this.activePath = this.claim.path;
    this.rotation = new RotationRunner(
      options.rotation ?? new RotationPolicy(),
      () => this.rotate(),
      this.warn,
      () => this.activePath,
    );
    this.gzipSegments = options.gzipSegments ?? false;
    this.keepSegments = options.keepSegments ?? 0;
    this.info = options.info ?? (() => undefined);
    // Continue numbering after segments an earlier run left, so names keep sorting in write order.
    this.nextSeq = (listSegments(this.activePath).at(-1)?.seq ?? 0) + 1;
    this.file = new AppendFile({
      path: this.activePath,
      sink: this.name,
      health: options.health,
      maxQueuedBytes: options.maxQueuedBytes,
    });
    this.maxHeldIndexBytes = options.maxHeldIndexBytes ?? MAX_HELD_INDEX_BYTES;
    // A FIFO or a device has no bytes to index, nor an offset to tie an index to.
    if ((options.index ?? true) && this.file.up && this.file.regularFile && this.file.size === 0)
      this.index = new SinkIndex(this.activePath, options.runId);
  }

  get path(): string {
    return this.file.path;
  }

  /** Rows encoded so far (for tests and reports). */
  get rowsWritten(): number {
    return this.linesWritten;
  }

  write(rows: readonly Row[]): void {
    if (this.shutdownPromise || !this.file.up) return;
    let chunk = '';
    const index = this.index;
    let indexed = 0;
    this.indexLines.count = 0;
    let lines = 0;
    // A stuck sink at its cap drops the chunk whole: encoding stops once it cannot fit.
    const room = this.file.roomNow();
    // A pipe may take part of a chunk: each row's line count lets it count the rows it took whole.
    const linesPerRow = this.file.regularFile ? undefined : new Uint32Array(rows.length);
    for (const row of rows) {
      if (!this.streams.has(row.stream)) continue;
      if (linesPerRow !== undefined) linesPerRow[lines] = row.phase === 'system' ? 1 : row.names.length;
      lines++;
      if (chunk.length > room) continue;
      if (index === undefined) chunk += this.encoder.encodeRow(row);
      else {
        chunk += this.encoder.encodeRow(row, this.indexLines, chunk.length);
        this.indexRows[indexed++] = row;
      }
    }
    this.linesWritten += lines;
    if (chunk.length > room) {
      // Never written, so never indexed.
      this.file.dropRecord(lines, chunk.length);
      this.indexRows.length = 0;
    } else if (chunk.length > 0) {
      if (index === undefined) this.file.append(chunk, lines, linesPerRow?.subarray(0, lines));
      else {
        // Encoded here rather than in append(): the index needs the byte length, and it is one pass.
        const bytes = Buffer.from(chunk, 'utf8');
        index.addRows(this.indexRows, indexed, this.indexLines.at, chunk, bytes, this.file.size);
        this.file.append(bytes, lines);
        this.indexRows.length = 0;
        if (index.heldBytes > this.maxHeldIndexBytes && !this.file.isStuck) this.flushSync();
      }
    }
    this.rotation.check(this.file.size);
  }

  /**
   * Closes the active file as the next numbered segment and starts a new one under the same name.
   * Whole lines only: the old file is flushed before the rename. Resolves to the closed segment's
   * path (after gzip, if enabled), or undefined when there was nothing to close or the rotation
   * failed (reported once through the warn channel). Never rejects.
   */
  rotateNow(): Promise<string | undefined> {
    return this.rotation.rotateNow(this.file.size);
  }

  /** Closes the active file as a segment and lists every closed segment (checkpoint archives). */
  async archiveSegments(): Promise<readonly string[]> {
    await this.flush();
    await this.rotateNow();
    return this.segments();
  }

  /** Closed segments of this stream, oldest first (for archiving and readers). */
  segments(): string[] {
    return listSegments(this.activePath).map((segment) => segment.path);
  }

  /** Resolves when every written line has been handed to the kernel. */
  async flush(): Promise<void> {
    await this.rotation.idle();
    this.index?.cut(this.file.size);
    await this.file.flush();
    this.writeIndex();
  }

  close(): Promise<void> {
    this.shutdownPromise ??= (async () => {
      await this.rotation.idle();
      this.index?.cut(this.file.size, true);
      await this.file.close();
      this.writeIndex();
      this.index?.close();
      this.claim.release();
      await Promise.allSettled([...this.maintenance]);
    })();
    return this.shutdownPromise;
  }

  private async rotate(): Promise<string | undefined> {
    if (!this.file.up || this.file.size === 0) return undefined;
    const target = segmentPath(this.activePath, this.nextSeq++);
    await this.file.reopen(this.activePath, {
      beforeOpen: () => fs.renameSync(this.activePath, target),
      undo: () => fs.renameSync(target, this.activePath),
      // Only now is the rotation sure: a rename refused or undone leaves the index going on with
      // its file. The old file's bytes are written; its index is finished and follows it.
      afterOpen: () => this.indexStep(() => this.index?.rotated(target, fs.statSync(target).size)),
    });
    if (!this.file.up) return undefined;
    let closed = target;
    if (this.gzipSegments) {
      try {
        closed = await this.track(gzipSegment(target));
      } catch (error) {
        this.warn(`codex-telemetry: cannot gzip ${target}, keeping it plain (${errorText(error)})`);
      }
    }
    await this.track(pruneSegments(this.activePath, this.keepSegments, this.info, this.warn));
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
    this.index?.cut(this.file.size);
    this.file.flushSync();
    this.writeIndex();
  }

  /** Exit path: the bytes reach the kernel; the descriptor goes with the process. */
  closeSync(): void {
    this.index?.cut(this.file.size, true);
    this.file.flushSync();
    this.writeIndex();
    this.claim.release();
  }

  private writeIndex(): void {
    this.indexStep(() => this.index?.writePending());
  }

  /** An index that cannot be written is given up, once, with a warning: readers build their own. */
  private indexStep(step: () => void): void {
    if (this.index === undefined) return;
    try {
      step();
    } catch (error) {
      if (errnoCode(error) === undefined) throw error;
      this.warn(
        `codex-telemetry: ${this.name}: cannot keep the run index of ${this.activePath} (${errorText(error)}); readers will build it`,
      );
      this.index.close();
      this.index = undefined;
    }
  }
}
