/**
 * Summarizes the whole lines of one byte range of a plain file with large synchronous reads
 * (a CLI has nothing else to do meanwhile). Used on the main thread and in the range worker.
 */
import fs from 'node:fs';
import { LineScanner } from './line-scanner.js';
import { RunSummary } from './run-summary.js';

const READ_BYTES = 8 << 20;

export interface RangeResult {
  summary: RunSummary;
  /** Lines seen in the range (blank ones included), to number the next range's lines. */
  lineCount: number;
}

/** `end` is exclusive. When `isLastRange`, a final line without \n is reported as truncated. */
export function scanRange(
  file: string,
  start: number,
  end: number,
  isLastRange: boolean,
  onBytes?: (bytes: number) => void,
  into?: RunSummary,
): RangeResult {
  // Files read one after another share one summary, so sums accumulate in input order and a
  // rotated stream summarizes to exactly the same figures as the unrotated one.
  const summary = into ?? new RunSummary();
  summary.files.push(file);
  const scanner = new LineScanner(summary, file);
  const fd = fs.openSync(file, 'r');
  let buffer = Buffer.allocUnsafe(READ_BYTES);
  let carry = 0;
  let position = start;
  let lineNo = 1;
  try {
    while (position < end) {
      if (carry === buffer.length) {
        // One line longer than the buffer: grow it rather than split the line.
        const bigger = Buffer.allocUnsafe(buffer.length * 2);
        buffer.copy(bigger, 0, 0, carry);
        buffer = bigger;
      }
      const read = fs.readSync(fd, buffer, carry, Math.min(buffer.length - carry, end - position), position);
      if (read === 0) break;
      position += read;
      summary.bytes += read;
      onBytes?.(read);
      const filled = carry + read;
      const lastNewline = buffer.lastIndexOf(10, filled - 1);
      if (lastNewline === -1) {
        carry = filled;
        continue;
      }
      lineNo += scanner.scan(buffer, 0, lastNewline + 1, lineNo);
      carry = filled - (lastNewline + 1);
      buffer.copy(buffer, 0, lastNewline + 1, filled);
    }
    if (carry > 0) {
      if (isLastRange) scanner.truncated(buffer, 0, carry, lineNo);
      else lineNo += scanner.scan(buffer, 0, carry, lineNo);
      lineNo++;
    }
  } finally {
    fs.closeSync(fd);
  }
  return { summary, lineCount: lineNo - 1 };
}
