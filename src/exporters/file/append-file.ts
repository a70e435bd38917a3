/**
 * Buffered append-only file writer shared by every file sink (NDJSON, TensorBoard, W&B).
 *
 * - `append()` queues bytes; `flush()` (driven by the pipeline's one flush clock) and a high-water
 *   mark (1 MiB) turn the queue into one positional `fs.write` at a time, off the main thread; the
 *   file keeps no timer. Records are queued whole and written in order, so a hard kill can leave
 *   at most a torn final record.
 * - Bounded in memory, whatever the caller's loop does (README "Bounds"):
 *   - past `syncBytes` queued (4 MiB), `append()` writes synchronously, as pino's sonic-boom does
 *     once its buffer is full: a loop that never yields to the event loop still gets every row on
 *     disk, with the queue never above `syncBytes`;
 *   - a sink is *stuck* when its last write has not completed after `stuckAfterMs` of event-loop
 *     time (a hung mount), or a pipe answers EAGAIN. A stuck sink is never written synchronously, so
 *     `append()` never waits on it; its queue grows to `maxQueuedBytes` (48 MiB), and past that the
 *     cap policy applies: `drop` (whole records dropped and counted, writing resumes when the write
 *     completes) or `seal` (the file ends at the last queued record, every later record is dropped
 *     and counted: for formats whose framing cannot skip a record, W&B).
 * - Writes are positional (we track the offset ourselves rather than using O_APPEND), so the
 *   synchronous last-chance flush at process exit can rewrite a write that was still in flight
 *   at the same offset, which makes it safe to call at any moment.
 * - A write that fails for a reason retrying cannot fix (ENOSPC, EFBIG, EIO, EACCES, EROFS, a
 *   removed directory...) marks the sink down once through SinkHealth; the file then becomes a
 *   no-op. Every queued chunk is one or more whole records, so a failed write is cut back
 *   (ftruncate) to the end of the last chunk written whole: a full disk leaves no torn record,
 *   and every reader accepts what is left. `writeAfterFault()` may then add one last record where
 *   it fits (W&B's exit record).
 */
import fs from 'node:fs';
import path from 'node:path';
import { diag } from '@opentelemetry/api';
import { errnoCode, errorText } from '../../errors.js';
import type { SinkHealth } from '../../health.js';
import { openOutput } from '../../files/no-follow.js';

/** Errors worth a bounded retry: the device was momentarily busy, not broken. */
const RETRYABLE_CODES = new Set(['EAGAIN', 'EBUSY', 'EINTR']);
/** A short, bounded retry: long enough for a busy device, short enough not to pile up data. */
const MAX_RETRIES = 5;
const RETRY_DELAY_MS = 20;
/** Flush early once this much is queued, so one write stays around a megabyte. */
const DEFAULT_HIGH_WATER_BYTES = 1 << 20;
/** Past this much queued, `append()` writes synchronously (a loop that never yields). */
const DEFAULT_SYNC_BYTES = 4 << 20;
/** The most a stuck sink holds in memory. */
export const DEFAULT_MAX_QUEUED_BYTES = 48 << 20;
/** A write still pending after this much event-loop time means the sink is stuck. */
const DEFAULT_STUCK_AFTER_MS = 1000;
/** How often a stuck pipe is tried again from `append()`. */
const PIPE_RETRY_MS = 20;
/** How often a flush checks that the path still names our file (an fstat and a stat). */
const LINK_CHECK_INTERVAL_MS = 500;

export interface AppendFileOptions {
  path: string;
  /** Sink name for health reports, e.g. `ndjson`. */
  sink: string;
  health: SinkHealth;
  highWaterBytes?: number;
  /** Bytes written at the start of a new (empty) file, e.g. a format header. */
  header?: Uint8Array;
  /** Truncate an existing file instead of appending to it. */
  truncate?: boolean;
  /** Past this many bytes queued, `append()` writes synchronously unless the sink is stuck. */
  syncBytes?: number;
  /** The most a stuck sink holds in memory (default 48 MiB). */
  maxQueuedBytes?: number;
  /** What happens to records past `maxQueuedBytes`: dropped (`drop`, default) or the file ends (`seal`). */
  capPolicy?: 'drop' | 'seal';
  stuckAfterMs?: number;
}

type Chunk = Uint8Array | string;

/** Linux's IOV_MAX: the most buffers one writev takes. */
const MAX_IOVECS = 1024;

export class AppendFile {
  readonly sink: string;
  private readonly health: SinkHealth;
  private readonly highWaterBytes: number;
  private readonly syncBytes: number;
  private readonly maxQueuedBytes: number;
  private readonly capPolicy: 'drop' | 'seal';
  private readonly stuckAfterMs: number;
  /** Pipes, FIFOs, character devices: written with non-blocking, non-positional writes. */
  private seekable = true;
  private stuck = false;
  private sealed = false;
  private lastPipeTryMs = 0;
  private droppedRowCount = 0;
  /** Rows in the queue, for exact drop counts (a record may carry several rows, or none). */
  private queuedRows = 0;
  private queueRows: number[] = [];
  /**
   * Per queued record, the newline-ended lines of each row it carries, when given (NDJSON on a
   * pipe): a pipe that takes part of a record then took the rows whose every line it took.
   */
  private queueLines: (Uint32Array | undefined)[] = [];
  /** Lines of the head record's first row a pipe has already taken. */
  private headLinesTaken = 0;
  private filePath: string;
  private fd: number | undefined;
  private position = 0;
  private queue: Uint8Array[] = [];
  private queuedBytes = 0;
  private inflight: { buffers: Uint8Array[]; position: number } | undefined;
  private writing: Promise<void> | undefined;
  private lastLinkCheckMs = 0;
  private flushScheduled = false;
  private closed = false;
  private down = false;
  /** Bumped by reopen(), so a path check that raced a rotation is ignored. */
  private generation = 0;
  private droppedBytes = 0;
  /** Where a failed write leaves the last whole record: the file is cut back to it. */
  private faultEnd: number | undefined;
  private truncatedAt: number | undefined;

  constructor(options: AppendFileOptions) {
    this.sink = options.sink;
    this.health = options.health;
    this.filePath = options.path;
    this.highWaterBytes = options.highWaterBytes ?? DEFAULT_HIGH_WATER_BYTES;
    this.syncBytes = Math.max(this.highWaterBytes, options.syncBytes ?? DEFAULT_SYNC_BYTES);
    this.maxQueuedBytes = options.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES;
    this.capPolicy = options.capPolicy ?? 'drop';
    this.stuckAfterMs = options.stuckAfterMs ?? DEFAULT_STUCK_AFTER_MS;
    this.health.register(this.sink);
    this.openSync(options.path, options.header, options.truncate ?? false);
  }

  get path(): string {
    return this.filePath;
  }

  /** True while the file accepts bytes. */
  get up(): boolean {
    return !this.down && !this.closed;
  }

  /** Bytes the file holds once everything queued is written. */
  get size(): number {
    return this.position + this.queuedBytes;
  }

  /** Whether the path names a regular file (not a FIFO, a terminal or another device). */
  get regularFile(): boolean {
    return this.seekable;
  }

  /** The size the file was cut back to after a write fault (undefined: no cut). */
  get truncatedTo(): number | undefined {
    return this.truncatedAt;
  }

  /**
   * After a write fault cut the file back, tries once to append `bytes` (whole records) at the cut:
   * true when they fit; otherwise the file is cut back again and stays as it was.
   */
  writeAfterFault(bytes: Uint8Array): boolean {
    const at = this.truncatedAt;
    if (at === undefined || bytes.byteLength === 0) return false;
    let fd: number | undefined;
    try {
      fd = openOutput(this.filePath, false);
      this.writeAllSync([bytes], at, fd);
      this.truncatedAt = at + bytes.byteLength;
      return true;
    } catch (error) {
      diag.debug(`codex-telemetry: ${this.sink}: no room for the closing records (${errorText(error)})`);
      if (fd !== undefined) truncateQuietly(fd, at, this.filePath);
      return false;
    } finally {
      if (fd !== undefined) fs.closeSync(fd);
    }
  }

  /** Bytes dropped (a record dropped through `dropRecord()` counts the part that was encoded). */
  get dropped(): number {
    return this.droppedBytes;
  }

  /** Rows dropped because the sink was stuck past its cap (not those of a sink that went down). */
  get droppedRows(): number {
    return this.droppedRowCount;
  }

  /** True while the last write has not completed for `stuckAfterMs`, or a pipe is full. */
  get isStuck(): boolean {
    return this.stuck;
  }

  /**
   * Queues one whole record (or several whole records) carrying `rows` rows (for drop counts).
   * `linesPerRow` (newline-ended text, one entry per row) lets a pipe count a partly taken record's
   * rows exactly. Never throws; waits on the disk only past `syncBytes` queued on a sink that is not stuck.
   */
  append(chunk: Chunk, rows = 1, linesPerRow?: Uint32Array): void {
    if (this.down || this.closed) {
      this.droppedBytes += byteLength(chunk);
      return;
    }
    this.retryStuckPipe();
    // A record dropped at the cap is never copied: a stuck sink allocates nothing per row.
    if (this.sealed || (this.stuck && this.queuedBytes + byteLength(chunk) > this.maxQueuedBytes)) {
      if (this.capPolicy === 'seal') this.sealed = true;
      this.dropRows(rows, byteLength(chunk));
      return;
    }
    // Encode strings now: one UTF-8 pass, and the queue then knows its exact size.
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    this.queue.push(bytes);
    this.queueRows.push(rows);
    this.queueLines.push(linesPerRow);
    this.queuedRows += rows;
    this.queuedBytes += bytes.byteLength;
    if (this.queuedBytes < this.highWaterBytes) return;
    if (!this.seekable) {
      if (!this.stuck) this.writePipe();
    } else if (this.queuedBytes >= this.syncBytes && !this.stuck) this.writeQueueSync();
    else this.scheduleFlush();
  }

  /**
   * Bytes the next `append()` takes before its record is dropped whole: unbounded unless the sink
   * is stuck (or sealed). A stuck pipe is tried first, as `append()` would. A caller whose record
   * is known to be longer (its UTF-16 length already is: UTF-8 is never shorter) may stop encoding
   * it and call `dropRecord()`: a stuck sink then costs no encoding per row.
   */
  roomNow(): number {
    if (this.down || this.closed) return 0;
    this.retryStuckPipe();
    if (this.sealed) return 0;
    return this.stuck ? this.maxQueuedBytes - this.queuedBytes : Infinity;
  }

  /**
   * Drops (and counts) a record of `rows` rows longer than `roomNow()`, exactly as `append()` would
   * have; `atLeastBytes` is as much of its length as the caller encoded.
   */
  dropRecord(rows: number, atLeastBytes: number): void {
    if (this.down || this.closed) {
      this.droppedBytes += atLeastBytes;
      return;
    }
    if (this.capPolicy === 'seal') this.sealed = true;
    this.dropRows(rows, atLeastBytes);
  }

  private retryStuckPipe(): void {
    if (this.stuck && !this.seekable && Date.now() - this.lastPipeTryMs >= PIPE_RETRY_MS) this.writePipe();
  }

  private dropRows(rows: number, bytes: number): void {
    this.droppedRowCount += rows;
    this.droppedBytes += bytes;
    this.health.countDropped(
      this.sink,
      rows,
      this.capPolicy === 'seal'
        ? `${this.filePath} is stuck (nothing reads it, or its last write has not completed) with ${this.maxQueuedBytes} bytes queued; ` +
            'the file ends at the last queued record and later rows are dropped'
        : `${this.filePath} is stuck (nothing reads it, or its last write has not completed) with ${this.maxQueuedBytes} bytes queued; ` +
            'rows are dropped until it accepts writes again',
    );
  }

  /**
   * The synchronous write of a loop that never yields: the queue goes to the kernel now, after any
   * write still in flight (positional, so the order on disk is kept either way).
   */
  private writeQueueSync(): void {
    if (this.fd === undefined) return;
    const { buffers, bytes } = this.takeQueue();
    try {
      this.writeAllSync(buffers, this.position);
      this.position += bytes;
    } catch (error) {
      this.fail(error);
    }
  }

  /**
   * Pipes take non-blocking writes: as much as fits now; EAGAIN (a reader that stopped reading)
   * makes the sink stuck, and the rest waits in the queue for the next try.
   */
  private writePipe(): void {
    if (this.fd === undefined || this.queue.length === 0) return;
    this.lastPipeTryMs = Date.now();
    try {
      while (this.queue.length > 0) {
        const written = fs.writevSync(this.fd, this.queue.slice(0, MAX_IOVECS));
        this.consumeQueue(written);
      }
      this.setStuck(false);
    } catch (error) {
      if (errnoCode(error) === 'EAGAIN') this.setStuck(true);
      else this.fail(error);
    }
  }

  /** Writes a pipe while its reader takes bytes; gives up after `stuckAfterMs` without progress. */
  private async drainPipe(): Promise<void> {
    let lastProgressMs = Date.now();
    for (;;) {
      const before = this.queuedBytes;
      this.writePipe();
      if (this.queue.length === 0 || this.down || this.fd === undefined) return;
      const nowMs = Date.now();
      if (this.queuedBytes < before) lastProgressMs = nowMs;
      else if (nowMs - lastProgressMs >= this.stuckAfterMs) return;
      await new Promise((resolve) => setTimeout(resolve, PIPE_RETRY_MS));
    }
  }

  /** Removes `written` bytes from the head of the queue, keeping a partly written record's rest. */
  private consumeQueue(written: number): void {
    let left = written;
    let whole = 0;
    while (whole < this.queue.length && left >= (this.queue[whole] as Uint8Array).byteLength) {
      left -= (this.queue[whole] as Uint8Array).byteLength;
      this.queuedRows -= this.queueRows[whole] as number;
      whole++;
    }
    this.queue.splice(0, whole);
    this.queueRows.splice(0, whole);
    this.queueLines.splice(0, whole);
    if (whole > 0) this.headLinesTaken = 0;
    if (left > 0) {
      const head = this.queue[0] as Uint8Array;
      const lines = this.queueLines[0];
      if (lines !== undefined) {
        // The rows whose last line this write completed are written, not queued.
        let taken = this.headLinesTaken + newlinesIn(head.subarray(0, left));
        let rows = 0;
        while (rows < lines.length && taken >= (lines[rows] as number)) taken -= lines[rows++] as number;
        this.headLinesTaken = taken;
        this.queueLines[0] = lines.subarray(rows);
        this.queueRows[0] = (this.queueRows[0] as number) - rows;
        this.queuedRows -= rows;
      }
      this.queue[0] = head.subarray(left);
    }
    this.queuedBytes -= written;
  }

  private setStuck(stuck: boolean): void {
    if (stuck === this.stuck) return;
    this.stuck = stuck;
    if (stuck) diag.debug(`codex-telemetry: ${this.sink}: ${this.filePath} is stuck; queueing up to the cap`);
    else if (this.droppedRowCount > 0)
      this.health.info(`codex-telemetry: ${this.sink}: ${this.filePath} accepts writes again`);
  }

  /** Resolves once every byte appended before the call is written (or the sink went down). */
  async flush(): Promise<void> {
    // The link check runs beside the write, so a flush starts writing at once.
    let linkCheck: Promise<void> | undefined;
    const nowMs = Date.now();
    if (nowMs - this.lastLinkCheckMs >= LINK_CHECK_INTERVAL_MS) {
      this.lastLinkCheckMs = nowMs;
      linkCheck = this.checkStillLinked().catch((error: unknown) => this.fail(error));
    }
    if (!this.seekable) await this.drainPipe();
    else
      while ((this.queue.length > 0 || this.writing) && !this.down) {
        if (!this.writing) this.startWrite();
        await this.writing;
      }
    // Down while a write was in flight: its end cuts the file back; wait for that before closing.
    if (this.writing) await this.writing;
    await linkCheck;
  }

  /** Flushes, then asks the kernel to make the bytes durable. */
  async sync(): Promise<void> {
    await this.flush();
    const fd = this.fd;
    if (fd === undefined || this.down) return;
    await new Promise<void>((resolve) => {
      fs.fdatasync(fd, (error) => {
        if (error) diag.debug(`codex-telemetry: fdatasync ${this.filePath}: ${error.message}`);
        resolve();
      });
    });
  }

  /**
   * Blocking flush for `process.on('exit')`, where no callback will ever run again. Rewrites an
   * in-flight write at its own offset (same bytes, so harmless if it already landed), then the queue.
   */
  flushSync(): void {
    // A fault whose cut waited for a write still in flight: no callback runs any more, cut now.
    if (this.down) this.finishDown(true);
    if (this.fd === undefined || this.down) return;
    if (!this.seekable) {
      this.writePipe();
      return;
    }
    try {
      if (this.inflight) this.writeAllSync(this.inflight.buffers, this.inflight.position);
      const { buffers, bytes } = this.takeQueue();
      if (bytes > 0) {
        // `position` already counts the in-flight write, so the queue goes right after it.
        this.writeAllSync(buffers, this.position);
        this.position += bytes;
      }
    } catch (error) {
      this.fail(error);
    }
  }

  /**
   * Continues in `nextPath` (which may be the same path after `beforeOpen` renamed the old file
   * away). Used for rotation; the old file is complete when it resolves. The next file is opened
   * before the old one is closed, so a rotation that fails (in `beforeOpen` or in the open)
   * rejects and changes nothing: this file keeps taking appends. `undo` reverses `beforeOpen` then;
   * `afterOpen` runs once the next file takes appends, before any append can reach it.
   */
  async reopen(
    nextPath: string,
    options: { header?: Uint8Array; beforeOpen?: () => void; undo?: () => void; afterOpen?: () => void } = {},
  ): Promise<void> {
    await this.flush();
    if (this.down || this.closed) return;
    options.beforeOpen?.();
    let next: { fd: number; position: number; seekable: boolean };
    try {
      next = openForAppend(nextPath, options.header, false);
    } catch (error) {
      options.undo?.();
      throw error;
    }
    this.closeFd();
    this.fd = next.fd;
    this.position = next.position;
    this.seekable = next.seekable;
    this.filePath = nextPath;
    this.generation++;
    // Before any append can reach the new file (no await from the swap to here).
    options.afterOpen?.();
  }

  /** Flushes, syncs and closes. Idempotent. A pipe still full at close drops (and counts) the rest. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.sync();
    if (this.queue.length > 0 && !this.down) {
      const { bytes } = this.takeQueue();
      this.dropRows(this.queuedRowsTaken, bytes);
    }
    this.closed = true;
    this.closeFd();
  }

  private openSync(filePath: string, header: Uint8Array | undefined, truncate: boolean): void {
    try {
      const { fd, position, seekable } = openForAppend(filePath, header, truncate);
      this.fd = fd;
      this.position = position;
      this.seekable = seekable;
    } catch (error) {
      this.fail(error);
    }
  }

  /**
   * Writes to a file whose directory was removed still succeed (into an unlinked inode), so the
   * data would vanish silently. At most every LINK_CHECK_INTERVAL_MS, a flush checks that the path still names our file.
   */
  async checkStillLinked(): Promise<void> {
    const fd = this.fd;
    const generation = this.generation;
    if (fd === undefined || this.down || this.closed) return;
    let reason: string | undefined;
    try {
      const [onDisk, open] = await Promise.all([fs.promises.stat(this.filePath), fstatAsync(fd)]);
      if (onDisk.ino !== open.ino || onDisk.dev !== open.dev)
        reason = 'the file was replaced by another file';
    } catch (error) {
      const code = errnoCode(error);
      if (code !== 'ENOENT' && code !== 'ENOTDIR' && code !== 'EBADF') throw error;
      reason = code === 'EBADF' ? undefined : 'the file or its directory was removed';
    }
    if (reason !== undefined && generation === this.generation && this.fd === fd) {
      this.fail(Object.assign(new Error(reason), { code: 'ENOENT' }));
    }
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.writing || this.down || this.queue.length === 0) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      if (!this.writing) this.startWrite();
    });
  }

  private startWrite(): void {
    if (this.fd === undefined || this.down || this.queue.length === 0) return;
    const { buffers, bytes } = this.takeQueue();
    const position = this.position;
    this.position += bytes;
    const inflight = { buffers, position };
    this.inflight = inflight;
    // Fires only when the event loop turns: a loop that never yields never judges a sink stuck.
    const stuckTimer = setTimeout(() => {
      if (this.inflight === inflight) this.setStuck(true);
    }, this.stuckAfterMs);
    stuckTimer.unref();
    this.writing = this.writeAll(this.fd, buffers, position).finally(() => {
      clearTimeout(stuckTimer);
      this.inflight = undefined;
      this.writing = undefined;
      this.setStuck(false);
      if (this.down) this.finishDown();
      if (this.queuedBytes >= this.highWaterBytes) this.scheduleFlush();
    });
  }

  private async writeAll(fd: number, buffers: Uint8Array[], position: number): Promise<void> {
    const cursor = new IovecCursor(buffers);
    let at = position;
    let retries = 0;
    while (!cursor.done) {
      try {
        const written = await writevAsync(fd, cursor.batch(), at);
        at += written;
        cursor.advance(written);
        retries = 0;
      } catch (error) {
        const code = errnoCode(error);
        if (code !== undefined && RETRYABLE_CODES.has(code) && retries < MAX_RETRIES) {
          retries += 1;
          await new Promise((resolve) => setTimeout(resolve, RETRY_DELAY_MS * retries));
          continue;
        }
        this.noteFault(position + cursor.wholeBytes);
        this.fail(error);
        return;
      }
    }
  }

  /** Throws the write's error after noting where its last whole chunk ends. */
  private writeAllSync(buffers: Uint8Array[], position: number, fd = this.fd as number): void {
    const cursor = new IovecCursor(buffers);
    let at = position;
    try {
      while (!cursor.done) {
        const written = fs.writevSync(fd, cursor.batch(), at);
        at += written;
        cursor.advance(written);
      }
    } catch (error) {
      if (fd === this.fd) this.noteFault(position + cursor.wholeBytes);
      throw error;
    }
  }

  /** The earliest end of a whole chunk before a failed write: where the file is cut back to. */
  private noteFault(wholeEnd: number): void {
    this.faultEnd = Math.min(this.faultEnd ?? Infinity, wholeEnd);
  }

  /**
   * Cuts the file back to the last whole record and closes it. Waits for a write still in flight
   * (its callback calls this again), so that write cannot land after the cut.
   */
  private finishDown(exiting = false): void {
    if ((this.writing !== undefined && !exiting) || this.fd === undefined) return;
    if (this.faultEnd !== undefined && this.seekable) {
      truncateQuietly(this.fd, this.faultEnd, this.filePath);
      this.truncatedAt = this.faultEnd;
      this.faultEnd = undefined;
    }
    this.closeFd();
  }

  /** Rows of the last takeQueue() (drop counts at close). */
  private queuedRowsTaken = 0;

  private takeQueue(): { buffers: Uint8Array[]; bytes: number } {
    const buffers = this.queue;
    const bytes = this.queuedBytes;
    this.queuedRowsTaken = this.queuedRows;
    this.queue = [];
    this.queueRows = [];
    this.queueLines = [];
    this.headLinesTaken = 0;
    this.queuedRows = 0;
    this.queuedBytes = 0;
    return { buffers, bytes };
  }

  private fail(error: unknown): void {
    this.droppedBytes += this.queuedBytes;
    this.queue = [];
    this.queueRows = [];
    this.queueLines = [];
    this.headLinesTaken = 0;
    this.queuedRows = 0;
    this.queuedBytes = 0;
    if (!this.down) {
      this.down = true;
      this.health.markDown(
        this.sink,
        `cannot write ${this.filePath} (${errorText(error)}); check the path, permissions and free space` +
          (this.faultEnd === undefined ? '' : '; the file ends at its last whole record'),
      );
    }
    this.finishDown();
  }

  private closeFd(): void {
    const fd = this.fd;
    this.fd = undefined;
    if (fd === undefined) return;
    try {
      fs.closeSync(fd);
    } catch (error) {
      diag.debug(`codex-telemetry: close ${this.filePath}: ${errorText(error)}`);
    }
  }
}

/** ftruncate that only reports: cutting back is best effort on a device that already failed. */
function truncateQuietly(fd: number, size: number, filePath: string): void {
  try {
    fs.ftruncateSync(fd, size);
  } catch (error) {
    diag.warn(`codex-telemetry: cannot cut ${filePath} back to ${size} bytes: ${errorText(error)}`);
  }
}

function byteLength(chunk: Chunk): number {
  return typeof chunk === 'string' ? Buffer.byteLength(chunk, 'utf8') : chunk.byteLength;
}

/**
 * `mkdir -p` that reports the real cause: Node's recursive mkdir answers ENOENT for any failure
 * below an existing ancestor (a read-only file system, a permission), which misleads whoever
 * reads the warning. On ENOENT the missing parts are created one by one to surface the cause.
 */
function makeDirectory(dir: string): void {
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (error) {
    if (errnoCode(error) !== 'ENOENT') throw error;
    const missing: string[] = [];
    for (let at = dir; !fs.existsSync(at) && at !== path.dirname(at); at = path.dirname(at))
      missing.unshift(at);
    // Throws the real cause (EROFS, EACCES...); if every part could be made after all, carry on.
    for (const part of missing) fs.mkdirSync(part);
  }
}

function fstatAsync(fd: number): Promise<fs.Stats> {
  return new Promise((resolve, reject) => {
    fs.fstat(fd, (error, stats) => {
      if (error) reject(error);
      else resolve(stats);
    });
  });
}

function writevAsync(fd: number, buffers: Uint8Array[], position: number): Promise<number> {
  return new Promise((resolve, reject) => {
    fs.writev(fd, buffers, position, (error, written) => {
      if (error) reject(error);
      else resolve(written);
    });
  });
}

/**
 * Walks a buffer list in writev batches of at most IOV_MAX, by index: a short write leaves the
 * rest of one buffer, and nothing is re-sliced per batch (that was quadratic in many small appends).
 */
class IovecCursor {
  private readonly buffers: Uint8Array[];
  private index = 0;
  /** Bytes of the buffers written whole so far. */
  wholeBytes = 0;
  private readonly original: number[];

  constructor(buffers: Uint8Array[]) {
    // A copy: advance() trims its entries, and flushSync may still need the in-flight list whole.
    this.buffers = [...buffers];
    this.original = buffers.map((buffer) => buffer.byteLength);
  }

  get done(): boolean {
    return this.index >= this.buffers.length;
  }

  batch(): Uint8Array[] {
    return this.buffers.slice(this.index, this.index + MAX_IOVECS);
  }

  advance(written: number): void {
    let left = written;
    while (this.index < this.buffers.length && left >= (this.buffers[this.index] as Uint8Array).byteLength) {
      const size = (this.buffers[this.index] as Uint8Array).byteLength;
      left -= size;
      // A buffer trimmed by an earlier short write counts its original length: `wholeBytes`
      // is the end of whole chunks measured from the batch's start.
      this.wholeBytes += this.original[this.index] as number;
      this.index++;
    }
    if (left > 0 && this.index < this.buffers.length) {
      this.buffers[this.index] = (this.buffers[this.index] as Uint8Array).subarray(left);
    }
  }
}

/** Opens (creating its directory) a file to append to; a new, empty file gets `header` first. */
function openForAppend(
  filePath: string,
  header: Uint8Array | undefined,
  truncate: boolean,
): { fd: number; position: number; seekable: boolean } {
  makeDirectory(path.dirname(filePath));
  const fd = openOutput(filePath, truncate);
  let position = 0;
  try {
    const stats = fs.fstatSync(fd);
    const seekable = stats.isFile();
    position = truncate || !seekable ? 0 : stats.size;
    if (header && position === 0 && seekable) {
      for (let at = 0; at < header.byteLength;)
        at += fs.writeSync(fd, header, at, header.byteLength - at, at);
      position = header.byteLength;
    }
    return { fd, position, seekable };
  } catch (error) {
    // A header cut short by a full disk is no header: leave the file empty.
    if (position === 0) truncateQuietly(fd, 0, filePath);
    fs.closeSync(fd);
    throw error;
  }
}

/** Newline bytes in `bytes`. */
function newlinesIn(bytes: Uint8Array): number {
  let count = 0;
  for (let at = bytes.indexOf(0x0a); at !== -1; at = bytes.indexOf(0x0a, at + 1)) count++;
  return count;
}
