/**
 * Turns a buffer of complete lines into visitor calls: UTF-8 checked once per chunk (Buffer's
 * native `isUtf8`), lines found with the native `indexOf`, each line tried on the fast path and
 * otherwise parsed with JSON.parse. Counts lines and malformed lines; knows where each line starts
 * in the file so faults can be reported as file:line.
 */
import { isUtf8 } from 'node:buffer';
import { FastLineParser } from './fast-line.js';
import type { MetricVisitor } from './metric-visitor.js';
import type { NameTable } from './name-table.js';
import { SlowLineParser } from './slow-line.js';
import { maxLineBytesFromEnv, tooLongReason } from './max-line.js';

const NEWLINE = 0x0a;
const CR = 0x0d;

export class LineProcessor {
  /** Lines seen so far (blank ones included: they are lines of the file). */
  lines = 0;
  malformed = 0;
  /** Byte offset in the file of the line being parsed (a visitor that indexes rows reads it). */
  lineStart = 0;
  private readonly fast: FastLineParser;
  private readonly slow: SlowLineParser;

  constructor(
    private readonly visitor: MetricVisitor,
    names: NameTable,
    runs: NameTable,
    /** Lines longer than this are one malformed line each, never parsed (./max-line.ts). */
    private readonly maxLineBytes: number = maxLineBytesFromEnv(),
  ) {
    this.fast = new FastLineParser(names, runs, visitor);
    this.slow = new SlowLineParser(names, runs, visitor);
  }

  /**
   * Processes the `\n`-terminated lines in `buf[0, end)` (`end` just past a newline);
   * `fileOffset` is where `buf[0]` sits in the file.
   */
  completeLines(buf: Buffer, end: number, fileOffset: number): void {
    // Newlines never occur inside a multi-byte sequence, so a chunk of whole lines is valid UTF-8
    // exactly when every line is: one native check for the chunk, per line only if it fails.
    const checkEachLine = !isUtf8(buf.subarray(0, end));
    let start = 0;
    while (start < end) {
      const newline = buf.indexOf(NEWLINE, start);
      this.line(buf, start, newline, fileOffset, checkEachLine, false);
      start = newline + 1;
    }
  }

  /** The bytes after the last newline at end of input: a line whose writer did not finish it. */
  lastLine(buf: Buffer, end: number, fileOffset: number): void {
    if (end > 0) this.line(buf, 0, end, fileOffset, true, true);
  }

  /** A line that cannot be held in memory: counted, reported, skipped. */
  tooLong(fileOffset: number, limit: number): void {
    this.lines++;
    this.fault(fileOffset, 'line', tooLongReason(limit));
  }

  private line(
    buf: Buffer,
    start: number,
    newline: number,
    fileOffset: number,
    checkUtf8: boolean,
    unterminated: boolean,
  ): void {
    this.lines++;
    let end = newline;
    if (end > start && buf[end - 1] === CR) end--;
    if (end === start) return;
    this.lineStart = fileOffset + start;
    if (end - start > this.maxLineBytes) {
      this.fault(fileOffset + start, 'line', tooLongReason(this.maxLineBytes));
      return;
    }
    if (checkUtf8 && !isUtf8(buf.subarray(start, end))) {
      this.fault(fileOffset + start, 'line', 'invalid UTF-8');
      return;
    }
    if (this.fast.parse(buf, start, end)) return;
    const fault = this.slow.parse(buf.toString('utf8', start, end));
    if (fault === undefined) return;
    const reason = unterminated ? `truncated last line (no newline): ${fault.reason}` : fault.reason;
    this.fault(fileOffset + start, fault.field, reason);
  }

  private fault(offset: number, field: string, reason: string): void {
    this.malformed++;
    this.visitor.malformed({ line: this.lines, offset, field, reason });
  }
}
