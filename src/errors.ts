/**
 * Errors with a stable string `code`, so callers branch on the code rather than on message text.
 * Messages say what was wrong and what to do about it.
 */
export type TelemetryErrorCode =
  | 'CONFIG_INVALID'
  | 'CONFIG_UNKNOWN_KEY'
  | 'NDJSON_MALFORMED'
  | 'TFEVENTS_CORRUPT'
  | 'WANDB_CORRUPT'
  | 'NVML_UNAVAILABLE'
  | 'SINK_DOWN'
  | 'CLI_USAGE'
  | 'PROC_MALFORMED'
  | 'ZOOM_TOO_LARGE'
  | 'INDEX_CHANGED';

export class TelemetryError extends Error {
  readonly code: TelemetryErrorCode;

  constructor(code: TelemetryErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TelemetryError';
    this.code = code;
  }
}

/** Exit status of every command when its arguments are wrong (as getopt-style tools do). */
export const USAGE_EXIT_CODE = 2;

/**
 * The command line was wrong: a missing or unknown option, a bad value, an input that names
 * nothing. Both CLIs print its message and "see --help", and exit with USAGE_EXIT_CODE.
 */
export class UsageError extends TelemetryError {
  /** The usage text of the command the error is about, for `--help`-style hints. */
  readonly usage: string | undefined;

  constructor(message: string, usage?: string) {
    super('CLI_USAGE', message);
    this.name = 'UsageError';
    this.usage = usage;
  }
}

/** A config field failed validation: names the field, the bad value and what is accepted. */
export class ConfigError extends TelemetryError {
  readonly field: string;

  constructor(field: string, value: unknown, expected: string) {
    super('CONFIG_INVALID', `config field "${field}" is ${describe(value)}; expected ${expected}`);
    this.name = 'ConfigError';
    this.field = field;
  }
}

export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (value === null || value === undefined || typeof value !== 'object') return String(value);
  try {
    return JSON.stringify(value);
  } catch (error) {
    if (error instanceof TypeError) return Object.prototype.toString.call(value);
    throw error;
  }
}

/** The errno-style `code` of a Node system error, or undefined for anything else. */
export function errnoCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = (error as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

/**
 * An error's message for a one-line report, with its errno code in front only when the message does
 * not already start with it (Node's fs messages do: "EROFS: read-only file system, open ...").
 */
export function errorText(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const code = errnoCode(error);
  return code === undefined || message.startsWith(code) ? message : `${code}: ${message}`;
}
