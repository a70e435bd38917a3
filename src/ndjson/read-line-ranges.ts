/**
 * Reads chosen lines of one NDJSON file (plain or gzip) into a MetricVisitor: each range runs from
 * a line start through the end of the line that starts at `lastLine` (a run index gives both, see
 * src/run-index/bucket-record.ts). A plain file is read only in those ranges (positioned reads); a
 * gzip file cannot be seeked, so it is inflated from its start, the bytes before each range are
 * counted and dropped unparsed, and inflating stops after the last range.
 */
import fs from 'node:fs';
import { createGunzip } from 'node:zlib';
import { LineProcessor } from './line/line-processor.js';
import type { MetricVisitor } from './line/metric-visitor.js';
import { maxLineBytesFromEnv } from './line/max-line.js';
import type { NameTables } from './read-metric-records.js';

/** Bytes [start, end of the line starting at lastLine); offsets of the (decompressed) file. */
export interface LineRange {
  start: number;
  lastLine: number;
}

export interface RangeReadStats {
  /** Bytes handed to the line parser. */
  parsed: number;
  /** Bytes inflated and dropped before the ranges (gzip only). */
  skipped: number;
}

/** A first read of a range's last line: most lines are far shorter, a longer one is read on. */
const LAST_LINE_GUESS = 4096;
const BACKSLASH = 0x5c;

export interface RangeReadOptions {
  /** Default: the path ends in `.gz`. */
  gzip?: boolean;
  maxLineBytes?: number;
  /**
   * Parse only lines holding these bytes (a series' name as a JSON string, quotes included) or a
   * backslash (a name may be written with escapes): a line of another series is skipped by a
   * native byte search instead of being parsed. A window's rows are mostly other series' lines.
   */
  linesWith?: Buffer;
}

/**
 * Sorts ranges and merges those that overlap, so each line is read once. Ranges whose last
 * line starts before the next range starts stay apart: the bytes between them are not read.
 */
export function mergeLineRanges(ranges: readonly LineRange[]): LineRange[] {
  const sorted = [...ranges].sort((a, b) => a.start - b.start);
  const out: LineRange[] = [];
  for (const range of sorted) {
    const last = out.at(-1);
    if (last !== undefined && range.start <= last.lastLine)
      last.lastLine = Math.max(last.lastLine, range.lastLine);
    else out.push({ ...range });
  }
  return out;
}

/** Reads `ranges` (sorted, disjoint: see mergeLineRanges) of `path` into `visitor`. */
export async function readLineRanges(
  path: string,
  ranges: readonly LineRange[],
  visitor: MetricVisitor,
  tables: NameTables,
  options: RangeReadOptions = {},
): Promise<RangeReadStats> {
  const maxLineBytes = options.maxLineBytes ?? maxLineBytesFromEnv();
  const processor = new LineProcessor(visitor, tables.names, tables.runs, maxLineBytes);
  const lines = new LineFilter(processor, options.linesWith);
  if (options.gzip ?? path.endsWith('.gz')) return readGzipRanges(path, ranges, processor, lines);
  const fd = fs.openSync(path, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    let parsed = 0;
    for (const range of ranges) {
      if (range.start >= size) break;
      let length = Math.min(size, range.lastLine + LAST_LINE_GUESS) - range.start;
      let buf = Buffer.allocUnsafe(length);
      let filled = fs.readSync(fd, buf, 0, length, range.start);
      // Only the bytes read are searched: an allocUnsafe buffer holds old bytes past them.
      let newline = buf.subarray(0, filled).indexOf(0x0a, range.lastLine - range.start);
      // The last line is longer than the guess: read on, doubling, until its newline or the end.
      while (
        newline === -1 &&
        range.start + filled < size &&
        filled <= maxLineBytes + range.lastLine - range.start
      ) {
        length = Math.min(size - range.start, length * 2);
        const bigger = Buffer.allocUnsafe(length);
        buf.copy(bigger, 0, 0, filled);
        buf = bigger;
        filled += fs.readSync(fd, buf, filled, length - filled, range.start + filled);
        newline = buf.subarray(0, filled).indexOf(0x0a, range.lastLine - range.start);
      }
      const end = newline === -1 ? filled : newline + 1;
      lines.complete(buf, newline === -1 ? lastNewlineEnd(buf, end) : end, range.start);
      if (newline === -1) {
        const from = lastNewlineEnd(buf, end);
        processor.lastLine(buf.subarray(from, end), end - from, range.start + from);
      }
      parsed += end;
    }
    return { parsed, skipped: 0 };
  } finally {
    fs.closeSync(fd);
  }
}

/** Hands whole lines to the processor, all of them or only those that may hold the series. */
class LineFilter {
  constructor(
    private readonly processor: LineProcessor,
    private readonly needle: Buffer | undefined,
  ) {}

  /** The `\n`-terminated lines of buf[0, end), which starts at file offset `offset`. */
  complete(buf: Buffer, end: number, offset: number): void {
    const needle = this.needle;
    if (needle === undefined) {
      this.processor.completeLines(buf, end, offset);
      return;
    }
    let at = 0;
    let slash = -2;
    while (at < end) {
      if (slash !== -1 && slash < at) slash = buf.indexOf(BACKSLASH, at);
      const named = buf.indexOf(needle, at);
      let hit = named === -1 || named >= end ? -1 : named;
      if (slash !== -1 && slash < end && (hit === -1 || slash < hit)) hit = slash;
      if (hit === -1) return;
      const start = hit === 0 ? 0 : Math.max(at, buf.lastIndexOf(0x0a, hit - 1) + 1);
      const lineEnd = buf.indexOf(0x0a, hit) + 1;
      this.processor.completeLines(buf.subarray(start, lineEnd), lineEnd - start, offset + start);
      at = lineEnd;
    }
  }
}

/** Just past the last newline in buf[0, end), or 0. */
function lastNewlineEnd(buf: Buffer, end: number): number {
  return end === 0 ? 0 : buf.lastIndexOf(0x0a, end - 1) + 1;
}

async function readGzipRanges(
  path: string,
  ranges: readonly LineRange[],
  processor: LineProcessor,
  lines: LineFilter,
): Promise<RangeReadStats> {
  const stats: RangeReadStats = { parsed: 0, skipped: 0 };
  if (ranges.length === 0) return stats;
  const file = fs.createReadStream(path);
  const inflate = file.pipe(createGunzip());
  file.on('error', (error) => inflate.destroy(error));
  let r = 0;
  let position = 0;
  let parts: Buffer[] = [];
  const flush = (atEnd: boolean): void => {
    const range = ranges[r] as LineRange;
    const buf = Buffer.concat(parts);
    parts = [];
    const whole = lastNewlineEnd(buf, buf.length);
    lines.complete(buf, whole, range.start);
    if (atEnd && whole < buf.length)
      processor.lastLine(buf.subarray(whole), buf.length - whole, range.start + whole);
    stats.parsed += buf.length;
  };
  try {
    for await (const chunk of inflate as AsyncIterable<Buffer>) {
      let at = 0;
      while (r < ranges.length && at < chunk.length) {
        const range = ranges[r] as LineRange;
        const from = Math.max(at, range.start - position);
        if (from >= chunk.length) break;
        if (parts.length === 0) stats.skipped += from - at;
        const newline = chunk.indexOf(0x0a, Math.max(from, range.lastLine - position));
        if (newline === -1) {
          parts.push(chunk.subarray(from));
          at = chunk.length;
          break;
        }
        parts.push(chunk.subarray(from, newline + 1));
        flush(false);
        r++;
        at = newline + 1;
      }
      if (r === ranges.length) break;
      if (parts.length === 0) stats.skipped += chunk.length - at;
      position += chunk.length;
    }
  } finally {
    inflate.destroy();
    file.destroy();
  }
  if (r < ranges.length && parts.length > 0) flush(true);
  return stats;
}
