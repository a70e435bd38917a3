/**
 * Buffered append-only file writer shared by every file sink (NDJSON, TensorBoard, W&B).
 *
 * - `append()` only queues bytes: the training loop never waits on the disk.
 * - `flush()` (driven by the pipeline's one flush clock) and a high-water mark turn the queue
 *   into one positional `fs.write` at a time, off the main thread; the file keeps no timer.
 *   Records are queued whole and written in order, so a hard kill can
 *   leave at most a torn final record.
 * - Writes are positional (we track the offset ourselves rather than using O_APPEND), so the
 *   synchronous last-chance flush at process exit can rewrite a write that was still in flight
 *   at the same offset, which makes it safe to call at any moment.
 * - A write that fails for a reason retrying cannot fix (ENOSPC, EACCES, EROFS, a removed
 *   directory...) marks the sink down once through SinkHealth; the file then becomes a no-op.
 */
import fs from 'node:fs';
import path from 'node:path';
import { diag } from '@opentelemetry/api';
import { errnoCode, errorText } from '../../errors.js';
import type { SinkHealth } from '../../health.js';

/** Errors worth a bounded retry: the device was momentarily busy, not broken. */
const RETRYABLE_CODES = new Set(['EAGAIN', 'EBUSY', 'EINTR']);
/** A short, bounded retry: long enough for a busy device, short enough not to pile up data. */
const MAX_RETRIES = 5;
const RETRY_DELAY_MS = 20;
/** Flush early once this much is queued, so one write stays around a megabyte. */
const DEFAULT_HIGH_WATER_BYTES = 1 << 20;
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
}

type Chunk = Uint8Array | string;

/** Linux's IOV_MAX: the most buffers one writev takes. */
const MAX_IOVECS = 1024;

export class AppendFile {
  readonly sink: string;
  private readonly health: SinkHealth;
  private readonly highWaterBytes: number;
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

  constructor(options: AppendFileOptions) {
    this.sink = options.sink;
    this.health = options.health;
    this.filePath = options.path;
    this.highWaterBytes = options.highWaterBytes ?? DEFAULT_HIGH_WATER_BYTES;
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

  /** Bytes dropped because the sink was down or closed. */
  get dropped(): number {
    return this.droppedBytes;
  }

  /** Queues one whole record (or several whole records). Never blocks, never throws. */
  append(chunk: Chunk): void {
    // Encode strings now: one UTF-8 pass, and the queue then knows its exact size.
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    if (this.down || this.closed) {
      this.droppedBytes += bytes.byteLength;
      return;
    }
    this.queue.push(bytes);
    this.queuedBytes += bytes.byteLength;
    if (this.queuedBytes >= this.highWaterBytes) this.scheduleFlush();
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
    while ((this.queue.length > 0 || this.writing) && !this.down) {
      if (!this.writing) this.startWrite();
      await this.writing;
    }
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
    if (this.fd === undefined || this.down) return;
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
   * rejects and changes nothing: this file keeps taking appends. `undo` reverses `beforeOpen` then.
   */
  async reopen(
    nextPath: string,
    options: { header?: Uint8Array; beforeOpen?: () => void; undo?: () => void } = {},
  ): Promise<void> {
    await this.flush();
    if (this.down || this.closed) return;
    options.beforeOpen?.();
    let next: { fd: number; position: number };
    try {
      next = openForAppend(nextPath, options.header, false);
    } catch (error) {
      options.undo?.();
      throw error;
    }
    this.closeFd();
    this.fd = next.fd;
    this.position = next.position;
    this.filePath = nextPath;
    this.generation++;
  }

  /** Flushes, syncs and closes. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.sync();
    this.closed = true;
    this.closeFd();
  }

  private openSync(filePath: string, header: Uint8Array | undefined, truncate: boolean): void {
    try {
      const { fd, position } = openForAppend(filePath, header, truncate);
      this.fd = fd;
      this.position = position;
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
    this.inflight = { buffers, position };
    this.writing = this.writeAll(this.fd, buffers, position).finally(() => {
      this.inflight = undefined;
      this.writing = undefined;
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
        this.fail(error);
        return;
      }
    }
  }

  private writeAllSync(buffers: Uint8Array[], position: number): void {
    const cursor = new IovecCursor(buffers);
    let at = position;
    while (!cursor.done) {
      const written = fs.writevSync(this.fd as number, cursor.batch(), at);
      at += written;
      cursor.advance(written);
    }
  }

  private takeQueue(): { buffers: Uint8Array[]; bytes: number } {
    const buffers = this.queue;
    const bytes = this.queuedBytes;
    this.queue = [];
    this.queuedBytes = 0;
    return { buffers, bytes };
  }

  private fail(error: unknown): void {
    this.droppedBytes += this.queuedBytes;
    this.queue = [];
    this.queuedBytes = 0;
    if (!this.down) {
      this.down = true;
      this.health.markDown(
        this.sink,
        `cannot write ${this.filePath} (${errorText(error)}); check the path, permissions and free space`,
      );
    }
    this.closeFd();
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

  constructor(buffers: Uint8Array[]) {
    // A copy: advance() trims its entries, and flushSync may still need the in-flight list whole.
    this.buffers = [...buffers];
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
      left -= (this.buffers[this.index] as Uint8Array).byteLength;
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
): { fd: number; position: number } {
  makeDirectory(path.dirname(filePath));
  const fd = fs.openSync(filePath, truncate ? 'w' : fs.constants.O_WRONLY | fs.constants.O_CREAT);
  try {
    let position = truncate ? 0 : fs.fstatSync(fd).size;
    if (header && position === 0) {
      for (let at = 0; at < header.byteLength;)
        at += fs.writeSync(fd, header, at, header.byteLength - at, at);
      position = header.byteLength;
    }
    return { fd, position };
  } catch (error) {
    fs.closeSync(fd);
    throw error;
  }
}
