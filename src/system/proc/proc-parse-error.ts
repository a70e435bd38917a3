import { TelemetryError } from '../../errors.js';

/** A /proc text did not have the shape the kernel documents; names the file, the line and the field. */
export class ProcParseError extends TelemetryError {
  readonly file: string;
  readonly line: number;
  readonly field: string;

  constructor(file: string, line: number, field: string, detail: string) {
    super('PROC_MALFORMED', `${file}:${line}: field "${field}" ${detail}`);
    this.name = 'ProcParseError';
    this.file = file;
    this.line = line;
    this.field = field;
  }
}

/** Parses a non-negative decimal counter, or throws naming where it was. */
export function counter(text: string | undefined, file: string, line: number, field: string): number {
  const value = text === undefined ? Number.NaN : Number(text);
  if (!Number.isFinite(value) || value < 0 || text === '') {
    throw new ProcParseError(file, line, field, `is ${JSON.stringify(text)}; expected a non-negative number`);
  }
  return value;
}
