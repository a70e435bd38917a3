/**
 * The one maximum line length every NDJSON reader shares: the bridge (`run`, `tail`), `summarize`,
 * the dashboard (its followers and backlog workers) and so the fast and slow line parsers, which
 * only ever see lines within it. A longer line is one malformed line ("longer than M bytes;
 * skipped", reported with file and line number); its bytes are skipped as they stream past, in
 * linear time and constant memory, so one reader's verdict is every reader's, and a stream that
 * never ends a line (`/dev/zero`) costs at most this much memory.
 *
 * Default 1 MiB (a metric line is about 120 bytes); `--max-line-bytes N` or CODEX_MAX_LINE_BYTES.
 */
import { UsageError } from '../../errors.js';

export const DEFAULT_MAX_LINE_BYTES = 1 << 20;
export const MAX_LINE_BYTES_ENV = 'CODEX_MAX_LINE_BYTES';
/** The accepted range: at least one ordinary line, at most what one Buffer may hold. */
export const MIN_MAX_LINE_BYTES = 1024;
export const MAX_MAX_LINE_BYTES = 1 << 30;

/** Checks a `--max-line-bytes` or CODEX_MAX_LINE_BYTES value; `source` names where it came from. */
export function parseMaxLineBytes(text: string, source: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < MIN_MAX_LINE_BYTES || value > MAX_MAX_LINE_BYTES) {
    throw new UsageError(
      `${source} ${text} must be a whole number of bytes from ${MIN_MAX_LINE_BYTES} to ${MAX_MAX_LINE_BYTES}`,
    );
  }
  return value;
}

/** The limit from the environment (CODEX_MAX_LINE_BYTES), or the default. */
export function maxLineBytesFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const text = env[MAX_LINE_BYTES_ENV]?.trim();
  return text === undefined || text === ''
    ? DEFAULT_MAX_LINE_BYTES
    : parseMaxLineBytes(text, MAX_LINE_BYTES_ENV);
}

/** The reason every reader gives for a line past the limit. */
export function tooLongReason(limit: number): string {
  return `longer than ${limit} bytes; skipped`;
}
