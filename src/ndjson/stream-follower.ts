/**
 * Follows one NDJSON stream like `tail -F`, for every reader that follows (the bridge, the
 * dashboard): waits for the active file to exist, reads what is appended in large chunks and hands
 * on whole lines only, and survives
 * - truncation, also a truncate-and-rewrite that outgrew our offset between two polls (the file's
 *   first bytes no longer match what was read there): the file is read again from its start;
 * - rotation (the path now names another file): the old file is finished through the descriptor
 *   still open on it, segments closed meanwhile are read in order, then the new file from its start.
 * Stat-polling, because inotify events do not survive renames across NFS and Lustre, where
 * checkpoints and logs often live. Memory is bounded: a line longer than `maxLineBytes` is reported
 * once and skipped to its newline without being held.
 */
import fs from 'node:fs';
import { createGunzip } from 'node:zlib';
import { errnoCode } from '../errors.js';
import { listSegments, type Segment } from './segments.js';
import { maxLineBytesFromEnv } from './line/max-line.js';

const CHUNK_BYTES = 1 << 20;
/** Bytes of the file's start remembered to notice a truncate-and-rewrite that outgrew our offset
 * between two polls (a size check alone misses it). */
const HEAD_BYTES = 256;
const NEWLINE = 0x0a;

/** Whole lines: `buf[0, end)` ends just past a newline; `fileOffset` is where `buf[0]` sits in `file`. */
export interface WholeLines {
  file: string;
  buf: Buffer;
  end: number;
  fileOffset: number;
}

export interface StreamFollowerOptions {
  /** The stream's active file (`metrics.ndjson`); its closed segments sit beside it. */
  path: string;
  /** Read the closed segments and what the file already holds (otherwise start at its current end). */
  fromStart: boolean;
  maxLineBytes?: number;
  /** Whole lines, in stream order; the buffer is reused once this returns (or its promise settles). */
  onLines: (lines: WholeLines) => void | Promise<void>;
  /** A file starts being read at `fileOffset` (a segment, the active file, or the file again after a reset). */
  onFileStart?: (file: string, fileOffset: number) => void;
  /** The bytes after the last newline of a file that is complete: a line whose writer did not end it. */
  onUnterminated?: (file: string, line: Buffer, fileOffset: number) => void | Promise<void>;
  /** A line longer than `maxLineBytes` starting at `fileOffset` was skipped. */
  onTooLong?: (file: string, fileOffset: number, limit: number) => void;
  /** A truncation or rotation happened; `partialBytes` of an unfinished line were dropped (truncation). */
  onReset?: (event: { file: string; kind: 'truncated' | 'rotated'; partialBytes: number }) => void;
  /** The file does not exist yet; called once, the first time it is found missing. */
  onMissing?: (file: string) => void;
  /** A closed segment could not be read (removed by retention meanwhile is not reported). */
  onSegmentError?: (file: string, error: unknown) => void;
}

/** Where a reader that already read the stream's start (in worker threads) hands over. */
export interface FollowResume {
  /** Segments up to this sequence number were read. */
  lastSeq: number;
  /** The active file that was read, by inode, and how far (a line start). */
  inode: number;
  offset: number;
}

/** Collects the unfinished last line across reads, in order, without copying until it ends. */
class PendingLine {
  private parts: Buffer[] = [];
  bytes = 0;
  /** File offset of the line's first byte. */
  start = 0;
  /** Inside a line already reported as too long: bytes are dropped until its newline. */
  skipping = false;

  add(part: Buffer, at: number): void {
    if (this.bytes === 0) this.start = at;
    this.parts.push(Buffer.from(part));
    this.bytes += part.length;
  }

  /** The line so far plus `tail`, as one buffer. */
  join(tail: Buffer): Buffer {
    return this.parts.length === 0 ? tail : Buffer.concat([...this.parts, tail]);
  }

  clear(): number {
    const dropped = this.bytes;
    this.parts = [];
    this.bytes = 0;
    this.skipping = false;
    return dropped;
  }
}

export class StreamFollower {
  readonly path: string;
  private readonly options: StreamFollowerOptions;
  private readonly maxLineBytes: number;
  private readonly pending = new PendingLine();
  private readonly buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  private handle: fs.promises.FileHandle | undefined;
  private inode: number | undefined;
  private position = 0;
  private head: Buffer | undefined;
  /** The active file was looked for at least once: anything that appears later is new. */
  private started = false;
  private segmentsSeen = false;
  private lastSeq = 0;
  private missingReported = false;
  private resume: FollowResume | undefined;
  private closed = false;

  constructor(options: StreamFollowerOptions) {
    this.path = options.path;
    this.options = options;
    this.maxLineBytes = options.maxLineBytes ?? maxLineBytesFromEnv();
  }

  /** Continue where another reader of the stream's start stopped (call before the first poll). */
  resumeAt(resume: FollowResume): void {
    this.resume = resume;
    this.lastSeq = resume.lastSeq;
    this.segmentsSeen = true;
    this.started = true;
  }

  /** An unfinished last line (no newline yet), e.g. when the writer was killed mid-line. */
  get pendingBytes(): number {
    return this.pending.bytes;
  }

  /** Reads everything available now; call repeatedly to follow. Returns bytes read. */
  async poll(): Promise<number> {
    let total = 0;
    if (!this.segmentsSeen) {
      this.segmentsSeen = true;
      if (this.options.fromStart) total += await this.readSegmentsAfter(0);
      else this.lastSeq = lastSeqOf(listSegments(this.path));
    }
    if (!this.handle && !(await this.open(false))) return total;
    if (await this.rewritten()) this.restart();
    total += await this.readToEnd();
    const current = await statOrUndefined(this.path);
    // Closed meanwhile (the reader is done): no handle, which is not a rotation.
    if (this.closed) return total;
    if (current === undefined || current.ino !== this.inode) {
      // Rotated away (or removed): the old file is complete; finish it through our descriptor.
      total += await this.readToEnd();
      await this.finishFile();
      await this.closeHandle();
      this.options.onReset?.({ file: this.path, kind: 'rotated', partialBytes: 0 });
      // The old file became the lowest new segment; any later one was closed before we looked.
      total += await this.readSegmentsAfter(this.lastSeq, true);
      if (current !== undefined && (await this.open(true))) total += await this.readToEnd();
    } else if (current.size < this.position) {
      this.restart();
      total += await this.readToEnd();
    }
    return total;
  }

  /**
   * The writer is done (it exited, or the stream is replayed as it is): the unfinished last line
   * is handed on as a line, and the file closed. A trainer's final unterminated row is still a row.
   */
  async finish(): Promise<void> {
    await this.finishFile();
    await this.closeHandle();
  }

  /**
   * Closes the file for good: a poll in flight, or a later one, does not open it again (it would
   * take the closed file for a rotated one and read the stream from its start).
   */
  async close(): Promise<void> {
    this.closed = true;
    await this.closeHandle();
  }

  private async closeHandle(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    this.inode = undefined;
    if (handle) await handle.close();
  }

  private restart(): void {
    const partialBytes = this.pending.clear();
    this.position = 0;
    this.head = undefined;
    this.options.onReset?.({ file: this.path, kind: 'truncated', partialBytes });
    this.options.onFileStart?.(this.path, 0);
  }

  /** True when the start of the file no longer holds what we read there. */
  private async rewritten(): Promise<boolean> {
    const handle = this.handle;
    const head = this.head;
    if (!handle || !head || this.position === 0) return false;
    const now = Buffer.allocUnsafe(head.length);
    const { bytesRead } = await handle.read(now, 0, head.length, 0);
    return bytesRead < head.length || !now.equals(head);
  }

  private async open(afterRotation: boolean): Promise<boolean> {
    if (this.closed) return false;
    let handle: fs.promises.FileHandle;
    try {
      handle = await fs.promises.open(this.path, 'r');
    } catch (error) {
      if (errnoCode(error) !== 'ENOENT') throw error;
      // Not there yet: everything it will hold is new, so read it from the start once it appears.
      this.started = true;
      if (!this.missingReported) {
        this.missingReported = true;
        this.options.onMissing?.(this.path);
      }
      return false;
    }
    if (this.closed) {
      // Closed while it opened: this handle is not kept.
      await handle.close();
      return false;
    }
    const stat = await handle.stat();
    if (!stat.isFile()) {
      await handle.close();
      // EISDIR only for a folder: a device or FIFO is not one, and an errno in its message misleads.
      const error = new Error(`${this.path}: not a regular file; give an NDJSON file`);
      throw stat.isDirectory() ? Object.assign(error, { code: 'EISDIR' }) : error;
    }
    this.handle = handle;
    this.inode = stat.ino;
    this.head = undefined;
    const resume = this.resume;
    this.resume = undefined;
    if (resume !== undefined && resume.inode === stat.ino) this.position = resume.offset;
    else this.position = afterRotation || this.started || this.options.fromStart ? 0 : stat.size;
    this.started = true;
    if (this.position > 0) {
      const head = Buffer.allocUnsafe(Math.min(HEAD_BYTES, this.position));
      const { bytesRead } = await handle.read(head, 0, head.length, 0);
      this.head = head.subarray(0, bytesRead);
    }
    this.options.onFileStart?.(this.path, this.position);
    return true;
  }

  private async readToEnd(): Promise<number> {
    const handle = this.handle;
    if (!handle) return 0;
    let total = 0;
    for (;;) {
      const at = this.position;
      const { bytesRead } = await handle.read(this.buffer, 0, CHUNK_BYTES, at);
      if (bytesRead === 0) return total;
      // A truncate-and-rewrite can land between poll()'s check and this read, which then returns
      // the middle of the new content (half lines, rows read twice). Checked again after the read:
      // such a chunk is dropped and the new content read from its start.
      if (at > 0 && (await this.rewritten())) {
        this.restart();
        continue;
      }
      if (at === 0) this.head = Buffer.from(this.buffer.subarray(0, Math.min(bytesRead, HEAD_BYTES)));
      this.position += bytesRead;
      total += bytesRead;
      await this.take(this.path, this.buffer.subarray(0, bytesRead), at);
    }
  }

  /** Hands on the whole lines of `data` (read at `at` in `file`), keeping an unfinished last line. */
  private async take(file: string, data: Buffer, at: number): Promise<void> {
    let start = 0;
    const pending = this.pending;
    if (pending.skipping) {
      const newline = data.indexOf(NEWLINE);
      if (newline < 0) return;
      pending.skipping = false;
      start = newline + 1;
    } else if (pending.bytes > 0) {
      const newline = data.indexOf(NEWLINE);
      if (newline < 0) return this.hold(file, data, at);
      if (pending.bytes + newline > this.maxLineBytes) {
        this.options.onTooLong?.(file, pending.start, this.maxLineBytes);
      } else {
        const line = pending.join(data.subarray(0, newline + 1));
        await this.options.onLines({ file, buf: line, end: line.length, fileOffset: pending.start });
      }
      pending.clear();
      start = newline + 1;
    }
    const last = data.lastIndexOf(NEWLINE);
    if (last >= start) {
      const lines = data.subarray(start, last + 1);
      if (this.maxLineBytes < lines.length) await this.takeBounded(file, lines, at + start);
      else await this.options.onLines({ file, buf: lines, end: lines.length, fileOffset: at + start });
      start = last + 1;
    }
    if (start < data.length) this.hold(file, data.subarray(start), at + start);
  }

  /** Whole lines in a chunk larger than the line limit: each too-long line is cut out and reported. */
  private async takeBounded(file: string, lines: Buffer, at: number): Promise<void> {
    let from = 0;
    let lineStart = 0;
    while (lineStart < lines.length) {
      const newline = lines.indexOf(NEWLINE, lineStart);
      if (newline - lineStart > this.maxLineBytes) {
        if (lineStart > from)
          await this.options.onLines({
            file,
            buf: lines.subarray(from),
            end: lineStart - from,
            fileOffset: at + from,
          });
        this.options.onTooLong?.(file, at + lineStart, this.maxLineBytes);
        from = newline + 1;
      }
      lineStart = newline + 1;
    }
    if (lines.length > from)
      await this.options.onLines({
        file,
        buf: lines.subarray(from),
        end: lines.length - from,
        fileOffset: at + from,
      });
  }

  private hold(file: string, part: Buffer, at: number): void {
    const pending = this.pending;
    if (pending.bytes + part.length > this.maxLineBytes) {
      this.options.onTooLong?.(file, pending.bytes > 0 ? pending.start : at, this.maxLineBytes);
      pending.clear();
      pending.skipping = true;
      return;
    }
    pending.add(part, at);
  }

  /** `file` is complete: its unterminated last line, if any, is a line too. */
  private async finishFile(file = this.path): Promise<void> {
    const pending = this.pending;
    if (pending.bytes > 0 && !pending.skipping) {
      const start = pending.start;
      const line = pending.join(Buffer.alloc(0));
      pending.clear();
      await this.options.onUnterminated?.(file, line, start);
    }
    pending.clear();
  }

  /**
   * Reads closed segments after `seq`, in order. After a rotation the lowest of them is the file
   * just finished through its descriptor (perhaps gzipped since), so it is skipped.
   */
  private async readSegmentsAfter(seq: number, skipFirst = false): Promise<number> {
    let total = 0;
    let skip = skipFirst;
    for (const segment of listSegments(this.path)) {
      if (segment.seq <= seq) continue;
      this.lastSeq = Math.max(this.lastSeq, segment.seq);
      if (skip) {
        skip = false;
        continue;
      }
      total += await this.readSegment(segment);
    }
    return total;
  }

  private async readSegment(segment: Segment): Promise<number> {
    let at = 0;
    this.options.onFileStart?.(segment.path, 0);
    try {
      const input = fs.createReadStream(segment.path, { highWaterMark: CHUNK_BYTES });
      const source = segment.gzip ? input.pipe(createGunzip()) : input;
      for await (const chunk of source as AsyncIterable<Buffer>) {
        await this.take(segment.path, chunk, at);
        at += chunk.length;
      }
    } catch (error) {
      // A segment removed by retention between the listing and the read is gone, not broken.
      if (errnoCode(error) !== 'ENOENT') this.options.onSegmentError?.(segment.path, error);
    }
    await this.finishFile(segment.path);
    return at;
  }
}

function lastSeqOf(segments: readonly Segment[]): number {
  return segments.reduce((last, segment) => Math.max(last, segment.seq), 0);
}

async function statOrUndefined(file: string): Promise<fs.Stats | undefined> {
  try {
    return await fs.promises.stat(file);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw error;
  }
}
