/**
 * Streams one NDJSON file (plain or gzip) into a MetricVisitor in bounded memory. Plain files are
 * read with large synchronous `fs.readSync` calls straight into one reused buffer (no stream
 * machinery, no per-chunk allocation); a byte range `[start, end)` whose ends sit on line starts
 * lets several workers share one file. Gzip files are inflated through a zlib stream.
 */
import fs from 'node:fs';
import { createGunzip } from 'node:zlib';
import { LineProcessor } from './line/line-processor.js';
import type { MetricVisitor } from './line/metric-visitor.js';
import type { NameTable } from './line/name-table.js';
import { maxLineBytesFromEnv } from './line/max-line.js';

/** Big enough that syscalls and per-chunk work vanish against the parsing; small enough to stay in cache-friendly, bounded memory. */
export const DEFAULT_CHUNK_BYTES = 4 << 20;
/**
 * The chunk of a worker thread's read (a first read's byte range, a background index build): each
 * task takes a new buffer, and the dead ones of earlier tasks stay in the worker until its heap is
 * collected. One index worker building 20 streams of 27 MB peaked 57 to 63 MB over the process's
 * start with 1 MiB chunks, 90 to 91 MB with 4 MiB, at the same speed (bench/RESULTS.md).
 */
export const WORKER_CHUNK_BYTES = 1 << 20;

export interface ReadOptions {
  /** First byte to read (a line start); default 0. Plain files only. */
  start?: number;
  /** Byte to stop before (a line start or the file size); default the file size. Plain files only. */
  end?: number;
  /** Read through this open descriptor instead of opening `path` (left open). Plain files only. */
  fd?: number;
  /** Inflate as gzip; default: the path ends in `.gz`. */
  gzip?: boolean;
  chunkBytes?: number;
  /** Default: CODEX_MAX_LINE_BYTES, else 1 MiB (./line/max-line.ts). */
  maxLineBytes?: number;
  /** Called after each chunk with the bytes of the file consumed so far (compressed bytes for gzip). */
  onProgress?: (bytes: number) => void;
  /** Hands over the line processor before reading, for a visitor that needs each line's offset. */
  onProcessor?: (processor: LineProcessor) => void;
}

export interface ReadStats {
  /** Lines read; line numbers given to `visitor.malformed` count from the range's first line. */
  lines: number;
  malformed: number;
  /** Bytes of NDJSON processed (after decompression). */
  bytes: number;
}

export interface NameTables {
  names: NameTable;
  runs: NameTable;
}

/** Holds the unfinished tail of the input between chunks; hands whole lines to the processor. */
class LineBuffer {
  buf: Buffer;
  filled = 0;
  /** File offset of `buf[0]`. */
  offset = 0;
  /** Inside a line too long to keep: drop bytes until its newline. */
  private skipping = false;

  constructor(
    private readonly processor: LineProcessor,
    chunkBytes: number,
    private readonly maxLineBytes: number,
  ) {
    this.buf = Buffer.allocUnsafe(chunkBytes);
  }

  /**
   * Makes room for at least one more read; grows only while one line does not fit. A full buffer
   * of `maxLineBytes + 1` bytes with no newline holds a line past the limit: it is reported once
   * and its bytes dropped as they arrive (linear time, this buffer's memory).
   */
  room(): number {
    if (this.filled === this.buf.length) {
      if (this.buf.length > this.maxLineBytes) {
        if (!this.skipping) this.processor.tooLong(this.offset, this.maxLineBytes);
        this.skipping = true;
        this.offset += this.filled;
        this.filled = 0;
      } else {
        const bigger = Buffer.allocUnsafe(Math.min(this.buf.length * 2, this.maxLineBytes + 1));
        this.buf.copy(bigger, 0, 0, this.filled);
        this.buf = bigger;
      }
    }
    return this.buf.length - this.filled;
  }

  /** `n` new bytes landed at `buf[filled]`. */
  commit(n: number): void {
    const from = this.filled;
    this.filled += n;
    if (this.skipping) {
      const newline = this.buf.indexOf(0x0a, from);
      if (newline === -1 || newline >= this.filled) {
        this.offset += this.filled;
        this.filled = 0;
        return;
      }
      this.skipping = false;
      this.consume(newline + 1);
    }
    // lastIndexOf with a negative start would search from the buffer's end, past `filled`.
    if (this.filled === 0) return;
    const last = this.buf.lastIndexOf(0x0a, this.filled - 1);
    if (last < 0) return;
    this.processor.completeLines(this.buf, last + 1, this.offset);
    this.consume(last + 1);
  }

  push(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      const n = Math.min(this.room(), chunk.length - at);
      chunk.copy(this.buf, this.filled, at, at + n);
      at += n;
      this.commit(n);
    }
  }

  finish(): void {
    if (!this.skipping) this.processor.lastLine(this.buf, this.filled, this.offset);
    this.consume(this.filled);
  }

  private consume(n: number): void {
    this.buf.copy(this.buf, 0, n, this.filled);
    this.filled -= n;
    this.offset += n;
  }
}

/**
 * Reads `path` into `visitor`. Names and run ids are interned into `tables` (share them across
 * files so ids stay stable). Malformed lines go to `visitor.malformed` and never stop the read;
 * I/O errors (ENOENT, EACCES, a corrupt gzip stream) reject.
 */
export async function readMetricRecords(
  path: string,
  visitor: MetricVisitor,
  tables: NameTables,
  options: ReadOptions = {},
): Promise<ReadStats> {
  const maxLineBytes = options.maxLineBytes ?? maxLineBytesFromEnv();
  const processor = new LineProcessor(visitor, tables.names, tables.runs, maxLineBytes);
  options.onProcessor?.(processor);
  const lines = new LineBuffer(processor, options.chunkBytes ?? DEFAULT_CHUNK_BYTES, maxLineBytes);
  const gzip = options.gzip ?? path.endsWith('.gz');
  const start = gzip ? 0 : (options.start ?? 0);
  if (gzip) {
    const file = fs.createReadStream(path);
    const inflate = file.pipe(createGunzip());
    file.on('error', (error) => inflate.destroy(error));
    for await (const chunk of inflate as AsyncIterable<Buffer>) {
      lines.push(chunk);
      options.onProgress?.(file.bytesRead);
    }
  } else {
    readPlain(path, lines, options);
  }
  lines.finish();
  return { lines: processor.lines, malformed: processor.malformed, bytes: lines.offset - start };
}

function readPlain(path: string, lines: LineBuffer, options: ReadOptions): void {
  const fd = options.fd ?? fs.openSync(path, 'r');
  try {
    const start = options.start ?? 0;
    const end = options.end ?? fs.fstatSync(fd).size;
    lines.offset = start;
    let position = start;
    while (position < end) {
      const room = lines.room();
      const n = fs.readSync(fd, lines.buf, lines.filled, Math.min(room, end - position), position);
      if (n === 0) break;
      position += n;
      lines.commit(n);
      options.onProgress?.(position - start);
    }
  } finally {
    if (options.fd === undefined) fs.closeSync(fd);
  }
}
