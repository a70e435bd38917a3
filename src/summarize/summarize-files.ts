/**
 * Summarizes files in order into one RunSummary. Plain files above a size are split at a line
 * boundary into two byte ranges, the second summarized in a worker thread while the main thread
 * does the first (two cores); gzip files stream through zlib on the main thread.
 */
import fs from 'node:fs';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import zlib from 'node:zlib';
import { LineScanner } from './line-scanner.js';
import { RunSummary } from './run-summary.js';
import { scanRange, type RangeResult } from './scan-range.js';
import { reviveSummary, type SerializedSummary } from './serialize.js';

/** Below this a worker's start-up costs more than it saves. */
const PARALLEL_MIN_BYTES = 64 << 20;

export interface SummarizeOptions {
  /** Use a worker thread for large files (needs the compiled range-worker.js). Default true. */
  parallel?: boolean;
  onBytes?: (bytes: number) => void;
}

export async function summarizeFiles(
  files: readonly string[],
  options: SummarizeOptions = {},
): Promise<RunSummary> {
  const total = new RunSummary();
  for (const file of files) {
    if (file.endsWith('.gz')) await scanGzip(file, total, options.onBytes);
    else await scanPlain(file, total, options);
  }
  return total;
}

async function scanPlain(file: string, total: RunSummary, options: SummarizeOptions): Promise<void> {
  const size = fs.statSync(file).size;
  const workerUrl = new URL('./range-worker.js', import.meta.url);
  const parallel = (options.parallel ?? true) && size >= PARALLEL_MIN_BYTES && fs.existsSync(workerUrl);
  if (!parallel) {
    scanRange(file, 0, size, true, options.onBytes, total);
    return;
  }
  const middle = lineBoundaryAfter(file, Math.floor(size / 2));
  const worker = new Worker(workerUrl, { workerData: { file, start: middle, end: size, isLastRange: true } });
  const second = once(worker, 'message') as Promise<[{ summary: SerializedSummary; lineCount: number }]>;
  const first: RangeResult = scanRange(file, 0, middle, false, options.onBytes, total);
  const [message] = await second;
  await worker.terminate();
  options.onBytes?.(size - middle);
  const revived = reviveSummary(message.summary);
  revived.files.length = 0;
  total.merge(revived, first.lineCount);
}

/** The offset just after the first newline at or after `offset` (or the file size). */
function lineBoundaryAfter(file: string, offset: number): number {
  const fd = fs.openSync(file, 'r');
  try {
    const buffer = Buffer.allocUnsafe(64 << 10);
    for (let at = offset; ; at += buffer.length) {
      const read = fs.readSync(fd, buffer, 0, buffer.length, at);
      if (read === 0) return at;
      const newline = buffer.subarray(0, read).indexOf(10);
      if (newline !== -1) return at + newline + 1;
    }
  } finally {
    fs.closeSync(fd);
  }
}

async function scanGzip(file: string, summary: RunSummary, onBytes?: (bytes: number) => void): Promise<void> {
  summary.files.push(file);
  const scanner = new LineScanner(summary, file);
  let carry: Buffer = Buffer.alloc(0);
  let lineNo = 1;
  const input = fs.createReadStream(file);
  input.on('data', (chunk) => onBytes?.(chunk.length));
  const gunzip = input.pipe(zlib.createGunzip());
  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      summary.bytes += chunk.length;
      const data = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk;
      const lastNewline = data.lastIndexOf(10);
      if (lastNewline === -1) {
        carry = data;
        continue;
      }
      lineNo += scanner.scan(data, 0, lastNewline + 1, lineNo);
      carry = Buffer.from(data.subarray(lastNewline + 1));
    }
  } catch (error) {
    // A damaged or cut gzip stream: keep what decompressed, report where it stopped.
    summary.addMalformed(file, lineNo, `gzip stream damaged: ${(error as Error).message}`);
  }
  if (carry.length > 0) scanner.truncated(carry, 0, carry.length, lineNo);
}
