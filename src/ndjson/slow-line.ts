/**
 * The general path: any line the fast path did not take goes through JSON.parse and is read with
 * the bridge's rules (src/bridge/parse-record.ts): schema v1 scalar lines and system snapshots in
 * any key order, and plain flat rows (`{"step": 3, "loss": 0.2, "phase": "eval"}`), where every
 * other top-level key with a numeric value (or a non-finite spelling) is a metric. Unknown fields are
 * ignored. A line is reported to the visitor only once all of it is valid.
 */
import type { MetricVisitor, PhaseId } from './metric-visitor.js';
import type { NameTable } from './name-table.js';

export interface LineFault {
  field: string;
  reason: string;
}

const NON_FINITE: Readonly<Record<string, number>> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };
const PHASE_IDS: Readonly<Record<string, PhaseId>> = { train: 0, eval: 1, system: 2 };
/** Keys of a flat row that describe the row rather than being metrics (the bridge's list). */
const FLAT_RESERVED: ReadonlySet<string> = new Set([
  'step',
  'ts',
  'phase',
  'run_id',
  'tags',
  'v',
  'time',
  'timestamp',
  'epoch_time',
]);
/** JSON.parse rounds integers beyond 2^53, so the step's digits are read from the text. */
const STEP_DIGITS = /"step"\s*:\s*(-?\d+)(?=\s*[,}])/;
const INT64_MAX = (1n << 63n) - 1n;
const INT64_MIN = -(1n << 63n);

function numeric(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') return NON_FINITE[value];
  return undefined;
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function exactStep(raw: unknown, line: string): number | bigint | undefined {
  if (raw === undefined || raw === null) return NaN;
  if (typeof raw !== 'number' || !Number.isInteger(raw)) return undefined;
  if (Number.isSafeInteger(raw)) return raw;
  const digits = STEP_DIGITS.exec(line)?.[1];
  if (digits === undefined) return undefined;
  const big = BigInt(digits);
  return big > INT64_MAX || big < INT64_MIN ? undefined : big;
}

export class SlowLineParser {
  /** Scratch for the metrics of one line, emitted only after the whole line checked out. */
  private readonly pendingNames: number[] = [];
  private readonly pendingValues: number[] = [];

  constructor(
    private readonly names: NameTable,
    private readonly runs: NameTable,
    private readonly visitor: MetricVisitor,
  ) {}

  /** Emits the line's scalars, or returns what is wrong with it. */
  parse(line: string): LineFault | undefined {
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch (error) {
      if (error instanceof SyntaxError) return { field: 'line', reason: `not JSON (${error.message})` };
      throw error;
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
      return { field: 'line', reason: 'not a JSON object' };
    const record = parsed as Record<string, unknown>;
    const step = exactStep(record.step, line);
    if (step === undefined)
      return { field: 'step', reason: `must be an integer in int64 range, got ${show(record.step)}` };
    const tsRaw = record.ts ?? record.timestamp ?? record.time;
    if (tsRaw !== undefined && (typeof tsRaw !== 'number' || !Number.isFinite(tsRaw)))
      return { field: 'ts', reason: `must be Unix seconds, got ${show(tsRaw)}` };
    const ts = tsRaw ?? NaN;
    const runRaw = record.run_id;
    if (runRaw !== undefined && typeof runRaw !== 'string')
      return { field: 'run_id', reason: `must be a string, got ${show(runRaw)}` };
    const tags = record.tags;
    const phaseRaw =
      tags !== null && typeof tags === 'object' && !Array.isArray(tags) && 'phase' in tags
        ? (tags as Record<string, unknown>).phase
        : record.phase;
    const phaseId = typeof phaseRaw === 'string' ? PHASE_IDS[phaseRaw] : undefined;
    if (phaseRaw !== undefined && phaseId === undefined)
      return { field: 'phase', reason: `must be train, eval or system, got ${show(phaseRaw)}` };

    const names = this.pendingNames;
    const values = this.pendingValues;
    names.length = 0;
    values.length = 0;
    let phase: PhaseId = phaseId ?? 0;
    if (typeof record.name === 'string' && 'value' in record) {
      const value = numeric(record.value);
      if (value === undefined)
        return {
          field: 'value',
          reason: `must be a number or "NaN"/"Infinity"/"-Infinity", got ${show(record.value)}`,
        };
      names.push(this.names.idOfString(record.name));
      values.push(value);
    } else if (record.values !== null && typeof record.values === 'object' && !Array.isArray(record.values)) {
      for (const [key, raw] of Object.entries(record.values as Record<string, unknown>)) {
        const value = numeric(raw);
        if (value === undefined)
          return { field: `values.${key}`, reason: `must be a number, got ${show(raw)}` };
        names.push(this.names.idOfString(key));
        values.push(value);
      }
      if (phaseId === undefined) phase = 2;
    } else {
      for (const [key, raw] of Object.entries(record)) {
        if (FLAT_RESERVED.has(key)) continue;
        const value = numeric(raw);
        if (value === undefined) continue;
        names.push(this.names.idOfString(key));
        values.push(value);
      }
      if (names.length === 0)
        return {
          field: 'line',
          reason: 'has no numeric metric (expected "name"/"value", "values", or numeric keys)',
        };
    }
    const run = typeof runRaw === 'string' ? this.runs.idOfString(runRaw) : -1;
    for (let i = 0; i < names.length; i++)
      this.visitor.scalar(phase, names[i] as number, run, step, ts, values[i] as number);
    return undefined;
  }
}
