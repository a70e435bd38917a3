/**
 * One NDJSON line → the row the bridge replays. Accepts schema v1 (docs/ndjson-schema.md) and
 * plain flat rows (`{"step": 3, "loss": 0.2, "phase": "eval"}`), so an existing trainer's
 * JSON-lines log works as it is. Returns a reason naming the field instead of throwing.
 */
import type { Phase, Step } from '../../step.js';

export interface ParsedRow {
  phase: Phase;
  step: Step | undefined;
  /** Unix seconds from the line, if it has one. */
  ts: number | undefined;
  /** The line's run_id, if it has one. */
  runId: string | undefined;
  names: string[];
  values: number[];
}

export type ParseResult = { ok: true; row: ParsedRow } | { ok: false; field: string; reason: string };

/** A Map, not an object literal: `"toString"` or `"constructor"` must not find Object.prototype's members. */
const NON_FINITE: ReadonlyMap<string, number> = new Map([
  ['NaN', NaN],
  ['Infinity', Infinity],
  ['-Infinity', -Infinity],
]);
const PHASES: ReadonlySet<string> = new Set(['train', 'eval', 'system']);
/** Keys of a flat row that describe the row rather than being metrics. */
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
/**
 * Most metric names one line may carry. Each distinct name costs its reader state (a summary keeps
 * about 8 KiB of samples per name), so a runaway line with millions of keys would otherwise grow
 * memory without bound. System snapshots carry a few hundred keys; 1024 leaves room.
 */
export const MAX_NAMES_PER_LINE = 1024;
/** After a `"step"` key: the colon and an integer that ends the value (no fraction or exponent). */
const STEP_VALUE_DIGITS = /\s*:\s*(-?\d+)(?=\s*[,}])/y;
const KEY_COLON = /\s*:/y;

function fail(field: string, reason: string): ParseResult {
  return { ok: false, field, reason };
}

function tooMany(count: number): ParseResult {
  return fail('line', `has ${count} keys, more than the ${MAX_NAMES_PER_LINE} metric names a line may carry`);
}

/** A value quoted in an error, cut short: a malformed line can be megabytes long. */
function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function numeric(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') return NON_FINITE.get(value);
  return undefined;
}

/** JSON.parse rounds integers beyond 2^53: read the step's digits from the text instead. */
function exactStep(raw: unknown, line: string): Step | undefined | 'bad' {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== 'number' || !Number.isInteger(raw)) return 'bad';
  if (Number.isSafeInteger(raw)) return raw;
  const digits = topLevelStepDigits(line);
  if (digits === undefined) return 'bad';
  const big = BigInt(digits);
  return big > (1n << 63n) - 1n || big < -(1n << 63n) ? 'bad' : big;
}

/**
 * The integer digits of the object's own `"step"` key, the last one as JSON.parse keeps the last
 * of duplicate keys. A `"step"` key nested deeper (in `tags`, say) is not the row's step, even
 * when it comes first.
 */
function topLevelStepDigits(line: string): string | undefined {
  let depth = 0;
  let digits: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c === 0x22) {
      const close = stringEnd(line, i);
      if (depth === 1 && line.startsWith('"step"', i)) {
        // A key (a colon follows), not a string value "step".
        KEY_COLON.lastIndex = close + 1;
        if (KEY_COLON.test(line)) {
          STEP_VALUE_DIGITS.lastIndex = close + 1;
          digits = STEP_VALUE_DIGITS.exec(line)?.[1];
        }
      }
      i = close;
    } else if (c === 0x7b || c === 0x5b) {
      depth++;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
  return digits;
}

/** Index of the quote closing the JSON string that opens at `open` (or the line's end). */
function stringEnd(line: string, open: number): number {
  for (let i = open + 1; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c === 0x5c) i++;
    else if (c === 0x22) return i;
  }
  return line.length;
}

/**
 * Python's `json.dumps` writes non-finite floats as the bare tokens NaN, Infinity and -Infinity,
 * which JSON.parse refuses. Outside strings, turn them into the quoted spellings the schema uses
 * ("NaN", "Infinity", "-Infinity"), which `numeric` reads back. Returns undefined when the line
 * holds no such token, so a line that is simply broken keeps its JSON.parse message.
 */
export function quotePythonTokens(line: string): string | undefined {
  let out = '';
  let last = 0;
  let changed = false;
  for (let i = 0; i < line.length; i++) {
    if (line.charCodeAt(i) === 0x22) {
      i = stringEnd(line, i);
      continue;
    }
    const token = line.startsWith('NaN', i)
      ? 'NaN'
      : line.startsWith('Infinity', i)
        ? 'Infinity'
        : line.startsWith('-Infinity', i)
          ? '-Infinity'
          : undefined;
    if (token === undefined) continue;
    out += `${line.slice(last, i)}"${token}"`;
    i += token.length - 1;
    last = i + 1;
    changed = true;
  }
  return changed ? out + line.slice(last) : undefined;
}

function parseJson(line: string): { ok: true; value: unknown } | { ok: false; message: string } {
  try {
    return { ok: true, value: JSON.parse(line) };
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    const quoted = quotePythonTokens(line);
    if (quoted !== undefined) {
      try {
        return { ok: true, value: JSON.parse(quoted) };
      } catch (retry) {
        if (!(retry instanceof SyntaxError)) throw retry;
      }
    }
    return { ok: false, message: error.message };
  }
}

export function parseRecordLine(line: string): ParseResult {
  const json = parseJson(line);
  if (!json.ok) return fail('line', `not JSON (${json.message})`);
  const parsed = json.value;
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    return fail('line', 'not a JSON object');
  const record = parsed as Record<string, unknown>;
  const step = exactStep(record.step, line);
  if (step === 'bad') return fail('step', `must be an integer in int64 range, got ${show(record.step)}`);
  const tsRaw = record.ts ?? record.timestamp ?? record.time;
  if (tsRaw !== undefined && (typeof tsRaw !== 'number' || !Number.isFinite(tsRaw))) {
    return fail('ts', `must be Unix seconds, got ${show(tsRaw)}`);
  }
  const ts = tsRaw as number | undefined;
  const runId = record.run_id;
  if (runId !== undefined && typeof runId !== 'string')
    return fail('run_id', `must be a string, got ${show(runId)}`);
  const tags = record.tags;
  const phaseRaw =
    tags !== null && typeof tags === 'object' && !Array.isArray(tags) && 'phase' in tags
      ? (tags as Record<string, unknown>).phase
      : record.phase;
  if (phaseRaw !== undefined && (typeof phaseRaw !== 'string' || !PHASES.has(phaseRaw))) {
    return fail('phase', `must be train, eval or system, got ${show(phaseRaw)}`);
  }
  let phase = (phaseRaw as Phase | undefined) ?? 'train';

  // Schema v1 scalar line.
  if (typeof record.name === 'string' && 'value' in record) {
    const value = numeric(record.value);
    if (value === undefined)
      return fail('value', `must be a number or "NaN"/"Infinity"/"-Infinity", got ${show(record.value)}`);
    return { ok: true, row: { phase, step, ts, runId, names: [record.name], values: [value] } };
  }
  // Schema v1 system snapshot.
  if (record.values !== null && typeof record.values === 'object' && !Array.isArray(record.values)) {
    const names: string[] = [];
    const values: number[] = [];
    const entries = Object.entries(record.values as Record<string, unknown>);
    if (entries.length > MAX_NAMES_PER_LINE) return tooMany(entries.length);
    for (const [key, raw] of entries) {
      const value = numeric(raw);
      if (value === undefined) return fail(`values.${key}`, `must be a number, got ${show(raw)}`);
      names.push(key);
      values.push(value);
    }
    if (phaseRaw === undefined) phase = 'system';
    return { ok: true, row: { phase, step, ts, runId, names, values } };
  }
  // Plain flat row: every numeric key that does not describe the row is a metric.
  const names: string[] = [];
  const values: number[] = [];
  const keys = Object.keys(record);
  if (keys.length > MAX_NAMES_PER_LINE + FLAT_RESERVED.size) return tooMany(keys.length);
  for (const [key, raw] of Object.entries(record)) {
    if (FLAT_RESERVED.has(key)) continue;
    const value = numeric(raw);
    if (value === undefined) continue;
    names.push(key);
    values.push(value);
  }
  if (names.length === 0)
    return fail('line', 'has no numeric metric (expected "name"/"value", "values", or numeric keys)');
  return { ok: true, row: { phase, step, ts, runId, names, values } };
}
