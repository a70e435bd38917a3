/**
 * The run id a replayed stream was written under, so `tail` re-exports it as the same run: its
 * TensorBoard run (`run-<id>`) and W&B run then match the original's. Read from the first rows
 * that carry one, in each stream's oldest file; nothing else of the stream is read here.
 */
import fs from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { errnoCode } from '../errors.js';
import { parseRecordLine } from '../ndjson/line/parse-record.js';
import { streamFiles } from '../ndjson/segments.js';

/** How much of a stream's oldest file is read for its run id: many lines, bounded memory. */
const HEAD_BYTES = 64 * 1024;

export type StreamRunId =
  { kind: 'one'; runId: string } | { kind: 'none' } | { kind: 'several'; runIds: string[] };

/** The run id the streams' first rows agree on, or why there is none to keep. */
export function streamRunId(streams: readonly string[]): StreamRunId {
  const ids = new Set<string>();
  for (const stream of streams) {
    const id = firstRunId(stream);
    if (id !== undefined) ids.add(id);
  }
  if (ids.size === 0) return { kind: 'none' };
  if (ids.size > 1) return { kind: 'several', runIds: [...ids] };
  return { kind: 'one', runId: [...ids][0] as string };
}

function firstRunId(stream: string): string | undefined {
  const oldest = streamFiles(stream)[0];
  if (oldest === undefined) return undefined;
  const head = readHead(oldest);
  if (head === undefined) return undefined;
  for (const line of head.split('\n')) {
    if (line.trim() === '') continue;
    const parsed = parseRecordLine(line);
    if (parsed.ok && parsed.row.runId !== undefined) return parsed.row.runId;
  }
  return undefined;
}

function readHead(file: string): string | undefined {
  let bytes: Buffer;
  try {
    if (file.endsWith('.gz')) bytes = gunzipSync(fs.readFileSync(file)).subarray(0, HEAD_BYTES);
    else {
      const fd = fs.openSync(file, 'r');
      try {
        bytes = Buffer.alloc(HEAD_BYTES);
        bytes = bytes.subarray(0, fs.readSync(fd, bytes, 0, HEAD_BYTES, 0));
      } finally {
        fs.closeSync(fd);
      }
    }
  } catch (error) {
    // A stream that cannot be read is reported by the bridge that follows it, with its path.
    if (errnoCode(error) !== undefined || error instanceof RangeError) return undefined;
    throw error;
  }
  // The last line may be cut by the bound: drop it.
  const text = bytes.toString('utf8');
  return bytes.length === HEAD_BYTES ? text.slice(0, text.lastIndexOf('\n') + 1) : text;
}
