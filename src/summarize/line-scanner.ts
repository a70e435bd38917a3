/**
 * Turns NDJSON lines into RunSummary updates. The fast path reads the exact byte layout our
 * exporter writes (`{"v":1,"ts":…,"run_id":"…","step":…,"name":"…","value":…,"tags":{"phase":"…"…}}`)
 * without allocating per line: names are interned by a hash of their bytes. Anything else (plain
 * rows, system snapshots, other key orders, escapes, exponents) goes through JSON.parse, which is
 * slower but complete.
 */
import { isUtf8 } from 'node:buffer';
import type { Phase, Step } from '../instruments/step-row.js';
import type { MetricStats } from './metric-stats.js';
import { scanNumber, scanTimestamp, type NumberScan } from './number-scan.js';
import type { RunSummary } from './run-summary.js';

const PREFIX = Buffer.from('{"v":1,"ts":');
const RUN_ID = Buffer.from(',"run_id":"');
const STEP = Buffer.from(',"step":');
const NAME = Buffer.from(',"name":"');
const VALUE = Buffer.from(',"value":');
const TAGS_PHASE = Buffer.from(',"tags":{"phase":"');
const QUOTE = 34;
const BACKSLASH = 92;
const NON_FINITE: Readonly<Record<string, number>> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };
const PHASES: ReadonlySet<string> = new Set(['train', 'eval', 'system']);
const FLAT_RESERVED: ReadonlySet<string> = new Set([
  'step',
  'ts',
  'phase',
  'run_id',
  'tags',
  'v',
  'time',
  'timestamp',
]);
const STEP_DIGITS = /"step"\s*:\s*(-?\d+)(?=\s*[,}])/;

interface InternedName {
  bytes: Buffer;
  name: string;
  byPhase: Partial<Record<Phase, MetricStats>>;
}

/** buf[start, end) equals `bytes`; a plain loop beats Buffer.compare's argument checks on short keys. */
function sameBytes(buf: Uint8Array, start: number, end: number, bytes: Uint8Array): boolean {
  if (end - start !== bytes.length) return false;
  for (let i = 0; i < bytes.length; i++) if (buf[start + i] !== bytes[i]) return false;
  return true;
}

function matchAt(buf: Uint8Array, at: number, token: Buffer): boolean {
  if (at + token.length > buf.length) return false;
  for (let i = 0; i < token.length; i++) if (buf[at + i] !== token[i]) return false;
  return true;
}

export class LineScanner {
  private readonly summary: RunSummary;
  private file: string;
  private readonly names = new Map<number, InternedName[]>();
  private readonly num: NumberScan = { value: 0, end: 0, ok: false };
  private lastRunId: Buffer = Buffer.alloc(0);
  /** Steps for plain rows without one: previous + 1, per phase. */
  private readonly nextStep = new Map<Phase, Step>();

  constructor(summary: RunSummary, file: string) {
    this.summary = summary;
    this.file = file;
  }

  setFile(file: string): void {
    this.file = file;
    this.nextStep.clear();
  }

  /** Scans the lines of buf[start, end) (each ending in \n); returns the number of lines. */
  scan(buf: Buffer, start: number, end: number, firstLine: number): number {
    let lineNo = firstLine;
    let at = start;
    while (at < end) {
      let newline = buf.indexOf(10, at);
      if (newline === -1 || newline >= end) newline = end;
      if (newline > at) {
        this.summary.lines++;
        if (!this.fast(buf, at, newline)) this.slow(buf, at, newline, lineNo);
      }
      lineNo++;
      at = newline + 1;
    }
    return lineNo - firstLine;
  }

  /** A last line with no newline: the writer was killed or is still writing. */
  truncated(buf: Buffer, start: number, end: number, lineNo: number): void {
    this.summary.lines++;
    this.summary.addMalformed(this.file, lineNo, `truncated last line (${end - start} bytes, no newline)`);
  }

  private fast(buf: Buffer, start: number, end: number): boolean {
    if (!matchAt(buf, start, PREFIX)) return false;
    const num = this.num;
    scanTimestamp(buf, start + PREFIX.length, end, num);
    if (!num.ok) return false;
    const ts = num.value;
    let at = num.end;
    if (!matchAt(buf, at, RUN_ID)) return false;
    at += RUN_ID.length;
    const idEnd = buf.indexOf(QUOTE, at);
    if (idEnd === -1 || idEnd >= end) return false;
    if (!sameBytes(buf, at, idEnd, this.lastRunId)) {
      for (let i = at; i < idEnd; i++) if (buf[i] === BACKSLASH || (buf[i] as number) >= 0x80) return false;
      this.lastRunId = Buffer.from(buf.subarray(at, idEnd));
      this.summary.runIds.add(this.lastRunId.toString('latin1'));
    }
    at = idEnd + 1;
    if (!matchAt(buf, at, STEP)) return false;
    at += STEP.length;
    scanNumber(buf, at, end, num);
    if (!num.ok || !Number.isSafeInteger(num.value)) return false;
    for (let i = at; i < num.end; i++) if (buf[i] === 46) return false; // "3.0" is not an int64 step
    const step = num.value;
    at = num.end;
    if (!matchAt(buf, at, NAME)) return false;
    at += NAME.length;
    const nameEnd = buf.indexOf(QUOTE, at);
    if (nameEnd === -1 || nameEnd >= end) return false;
    let hash = 0x811c9dc5;
    for (let i = at; i < nameEnd; i++) {
      const byte = buf[i] as number;
      if (byte === BACKSLASH) return false;
      hash = Math.imul(hash ^ byte, 0x01000193);
    }
    const nameStart = at;
    at = nameEnd + 1;
    if (!matchAt(buf, at, VALUE)) return false;
    at += VALUE.length;
    let value: number;
    if (buf[at] === QUOTE) {
      const close = buf.indexOf(QUOTE, at + 1);
      if (close === -1 || close >= end) return false;
      const spelled = NON_FINITE[buf.toString('latin1', at + 1, close)];
      if (spelled === undefined) return false;
      value = spelled;
      at = close + 1;
    } else {
      scanNumber(buf, at, end, num);
      if (!num.ok) return false;
      value = num.value;
      at = num.end;
    }
    if (!matchAt(buf, at, TAGS_PHASE)) return false;
    at += TAGS_PHASE.length;
    let phase: Phase;
    if (matchAt(buf, at, TRAIN_Q)) phase = 'train';
    else if (matchAt(buf, at, EVAL_Q)) phase = 'eval';
    else return false;
    if (buf[end - 1] !== 125) return false;
    // Names are UTF-8; one malformed byte sequence sends the line to the slow path to be reported.
    const interned = this.intern(buf, nameStart, nameEnd, hash);
    if (interned === undefined) return false;
    const stats = (interned.byPhase[phase] ??= this.summary.stats(phase, interned.name));
    stats.add(step, value);
    this.summary.noteTs(ts);
    if (phase === 'train') this.summary.noteStep(step);
    return true;
  }

  private intern(buf: Buffer, start: number, end: number, hash: number): InternedName | undefined {
    const bucket = this.names.get(hash);
    if (bucket) {
      for (const entry of bucket) {
        if (sameBytes(buf, start, end, entry.bytes)) return entry;
      }
    }
    const bytes = Buffer.from(buf.subarray(start, end));
    if (!isUtf8(bytes)) return undefined;
    const entry: InternedName = { bytes, name: bytes.toString('utf8'), byPhase: {} };
    if (bucket) bucket.push(entry);
    else this.names.set(hash, [entry]);
    return entry;
  }

  private slow(buf: Buffer, start: number, end: number, lineNo: number): void {
    const bytes = buf.subarray(start, end);
    if (!isUtf8(bytes)) {
      this.summary.addMalformed(this.file, lineNo, 'invalid UTF-8');
      return;
    }
    const text = bytes.toString('utf8');
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      if (!(error instanceof SyntaxError)) throw error;
      this.summary.addMalformed(this.file, lineNo, `not JSON (${error.message})`);
      return;
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      this.summary.addMalformed(this.file, lineNo, 'not a JSON object');
      return;
    }
    const record = parsed as Record<string, unknown>;
    const reason = this.record(record, text);
    if (reason !== undefined) this.summary.addMalformed(this.file, lineNo, reason);
  }

  /** Applies one parsed line; returns why it is malformed, or undefined. */
  private record(record: Record<string, unknown>, text: string): string | undefined {
    let step: Step | undefined;
    if (record.step !== undefined && record.step !== null) {
      if (typeof record.step !== 'number' || !Number.isInteger(record.step))
        return `field "step" must be an integer, got ${JSON.stringify(record.step)}`;
      if (Number.isSafeInteger(record.step)) step = record.step;
      else {
        const digits = STEP_DIGITS.exec(text)?.[1];
        const big = digits === undefined ? undefined : BigInt(digits);
        if (big === undefined || big > (1n << 63n) - 1n || big < -(1n << 63n))
          return 'field "step" is outside the int64 range';
        step = big;
      }
    }
    const tsRaw = record.ts ?? record.timestamp ?? record.time;
    if (tsRaw !== undefined && (typeof tsRaw !== 'number' || !Number.isFinite(tsRaw)))
      return `field "ts" must be Unix seconds, got ${JSON.stringify(tsRaw)}`;
    const tags = record.tags;
    const phaseRaw =
      tags !== null && typeof tags === 'object' && 'phase' in tags
        ? (tags as Record<string, unknown>).phase
        : record.phase;
    if (phaseRaw !== undefined && (typeof phaseRaw !== 'string' || !PHASES.has(phaseRaw)))
      return `field "phase" must be train, eval or system, got ${JSON.stringify(phaseRaw)}`;
    let phase = (phaseRaw as Phase | undefined) ?? 'train';
    if (typeof record.run_id === 'string') this.summary.runIds.add(record.run_id);

    const entries: Array<[string, number]> = [];
    if (typeof record.name === 'string' && 'value' in record) {
      const value = numeric(record.value);
      if (value === undefined)
        return `field "value" must be a number or "NaN"/"Infinity"/"-Infinity", got ${JSON.stringify(record.value)}`;
      entries.push([record.name, value]);
    } else if (record.values !== null && typeof record.values === 'object' && !Array.isArray(record.values)) {
      if (phaseRaw === undefined) phase = 'system';
      for (const [key, raw] of Object.entries(record.values as Record<string, unknown>)) {
        const value = numeric(raw);
        if (value === undefined) return `field "values.${key}" must be a number, got ${JSON.stringify(raw)}`;
        entries.push([key, value]);
      }
    } else {
      for (const [key, raw] of Object.entries(record)) {
        if (FLAT_RESERVED.has(key)) continue;
        const value = numeric(raw);
        if (value !== undefined) entries.push([key, value]);
      }
      if (entries.length === 0)
        return 'no metric in the line (expected "name"/"value", "values", or numeric keys)';
    }
    if (step === undefined) {
      step = this.nextStep.get(phase) ?? 0;
    }
    this.nextStep.set(phase, typeof step === 'bigint' ? step + 1n : step + 1);
    for (const [name, value] of entries) this.summary.stats(phase, name).add(step, value);
    if (typeof tsRaw === 'number') this.summary.noteTs(tsRaw);
    if (phase === 'train') this.summary.noteStep(step);
    return undefined;
  }
}

const TRAIN_Q = Buffer.from('train"');
const EVAL_Q = Buffer.from('eval"');

function numeric(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') return NON_FINITE[value];
  return undefined;
}
